/**
 * What the person sees in the hand-off flow: keys and choice ids only. The engineer's name is a
 * parameter shown as written, never text to translate.
 */
import type { Line, StepView } from '../flow';
import { keysIn, stepView } from '../kit';
import type { HandoffContext } from './context';
import { ENDINGS, QUESTIONS, type QuestionStep } from './steps';

const { key, line, option } = keysIn('handoff:');

/** What opens a question: who joined, who ended the chat, that nobody came. */
function openingOf(step: QuestionStep, c: HandoffContext): Line | undefined {
  const { expert = '', endedBy, waitMinutes } = c.handoff;
  if (step === 'live') return line('live.joined', { name: expert });
  if (step === 'solvedAsk') return line(endedBy === 'person' ? 'solvedAsk.endedByPerson' : 'solvedAsk.endedByExpert', { name: expert });
  if (step === 'expiredOffer') return line('expiredOffer.told', { minutes: waitMinutes ?? 0 });
  if (step === 'closedAsk') return c.back ? line('closedAsk.away', { ...c.back }) : line('closedAsk.awayNoTime');
  return undefined;
}

function questionView(step: QuestionStep, c: HandoffContext): StepView {
  const lines: Line[] = [];
  const opening = openingOf(step, c);
  if (opening) lines.push({ ...opening, opening: true });
  if (c.missed && step !== 'live') lines.push({ ...line('reprompt'), notice: true, listChoices: true });
  // The live chat has no standing question: what the person writes goes to the engineer.
  if (step !== 'live') lines.push(line(`${step}.prompt`));
  return stepView(step, {
    lines,
    choices: step === 'live' && c.quiet ? [] : Object.keys(QUESTIONS[step].options).map((id) => option(id, `${step}.choices.${id}`)),
    helpKey: key(`${step}.help`),
  });
}

export function handoffView(snapshot: { value: unknown; context: HandoffContext }): StepView {
  const step = String(snapshot.value);
  const c = snapshot.context;
  if (Object.hasOwn(QUESTIONS, step)) return questionView(step as QuestionStep, c);
  if (Object.hasOwn(ENDINGS, step)) {
    const { outcome } = ENDINGS[step as keyof typeof ENDINGS];
    const minutes = c.handoff.waitMinutes ?? 0;
    return stepView(step, {
      lines: step === 'left' ? [] : [line(`${step}.said`, { minutes })],
      helpKey: key('offerAsk.help'),
      ...(outcome === 'handed_over' ? {} : { outcome }),
    });
  }
  // Waiting on the runtime (busy), or left with BACK (the engine resumes what the person stood at).
  if (step === 'start' || step === 'offer' || step === 'requesting' || step === 'cancelled') return stepView(step, { lines: [line(`${step}.said`)], helpKey: key('offerAsk.help') });
  throw new Error(`handoff: unknown step "${step}"`);
}
