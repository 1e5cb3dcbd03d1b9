/** What the person sees in the follow-up flow: keys and choice ids only. */
import type { Line, StepView } from '../flow';
import { keysIn, stepView } from '../kit';
import type { FollowupInput } from './contract';
import { ENDINGS, QUESTIONS, type QuestionStep } from './steps';
import type { TrailEntry } from '../support-case/case-draft';

export interface FollowupContext {
  input: FollowupInput;
  mode: 'self' | 'agent';
  /** The answers given here, added to the case's trail if one is opened. */
  trail: TrailEntry[];
  lastQuestion: QuestionStep;
  missed?: true;
}

const { key, line, option } = keysIn('followup:');
const SENDER = 'webex_comm@webex.com';

function questionView(step: QuestionStep, c: FollowupContext): StepView {
  const { ending, hours } = c.input;
  const lines: Line[] = [];
  if (step === 'followupAsk') lines.push({ ...line(hours === 24 ? `ask.opening.${ending}` : `ask.openingEarlier.${ending}`), opening: true });
  if (step === 'followupSpam') lines.push(line('spam.folders'), line('spam.allowList', { sender: SENDER }));
  if (step === 'followupVerify') lines.push(line('verify.steps'));
  if (c.missed) lines.push({ ...line('reprompt'), notice: true, listChoices: true });
  lines.push(line(step === 'followupAsk' ? `ask.prompt.${ending}` : `${step === 'followupSpam' ? 'spam' : 'verify'}.prompt`));
  const ns = step === 'followupAsk' ? 'ask' : step === 'followupSpam' ? 'spam' : 'verify';
  return stepView(step, {
    lines,
    choices: Object.keys(QUESTIONS[step].options).map((id) => option(id, `${ns}.choices.${id}`)),
    helpKey: key(`${ns}.help`),
  });
}

export function followupView(snapshot: { value: unknown; context: FollowupContext }): StepView {
  const step = String(snapshot.value);
  const c = snapshot.context;
  if (Object.hasOwn(QUESTIONS, step)) return questionView(step as QuestionStep, c);
  if (Object.hasOwn(ENDINGS, step)) {
    const { outcome } = ENDINGS[step as keyof typeof ENDINGS];
    const said = step === 'followupCase' && !c.input.intake ? 'case.manual' : `${step.replace('followup', '').toLowerCase()}.said`;
    return stepView(step, { lines: [line(said)], helpKey: key('ask.help'), outcome });
  }
  // Recording the answer (seen only if the runtime is slow), or left with BACK.
  return stepView(step, { lines: [line(step === 'followupCancelled' ? 'cancelled' : 'working')], helpKey: key('ask.help') });
}
