/**
 * What the person sees in the case-closure flow: keys and choice ids only. Support's own words (the
 * engineer's note, the ticket id) are facts shown as written, never text to translate or interpolate.
 */
import type { Fact, Line, StepView } from '../flow';
import { keysIn, stepView } from '../kit';
import type { CaseClosureContext } from './context';
import { ENDINGS, QUESTIONS, type QuestionStep } from './steps';

const { key, line, option } = keysIn('closure:');

function caseFacts(c: CaseClosureContext): Fact[] {
  const { ticketId, note } = c.input.case;
  const facts: Fact[] = [];
  if (ticketId) facts.push({ labelKey: key('fact.ticket'), value: ticketId });
  if (note?.trim()) facts.push({ labelKey: key('fact.note'), value: note.trim() });
  return facts;
}

function questionView(step: QuestionStep, c: CaseClosureContext): StepView {
  const { reference, status } = c.input.case;
  const lines: Line[] = [];
  if (step === 'closureAsk') lines.push({ ...line(`closureAsk.told.${status}`, { reference }), opening: true });
  if (c.missed) lines.push({ ...line('reprompt'), notice: true, listChoices: true });
  lines.push(line(`${step}.prompt`, { reference }));
  return stepView(step, {
    lines,
    choices: Object.keys(QUESTIONS[step].options).map((id) => option(id, `${step}.choices.${id}`)),
    facts: step === 'closureAsk' ? caseFacts(c) : [],
    helpKey: key(`${step}.help`),
  });
}

export function caseClosureView(snapshot: { value: unknown; context: CaseClosureContext }): StepView {
  const step = String(snapshot.value);
  const c = snapshot.context;
  const { reference } = c.input.case;
  if (Object.hasOwn(QUESTIONS, step)) return questionView(step as QuestionStep, c);
  if (Object.hasOwn(ENDINGS, step)) {
    const { outcome } = ENDINGS[step as keyof typeof ENDINGS];
    return stepView(step, { lines: [line(`${step}.said`, { reference })], helpKey: key('closureAsk.help'), outcome });
  }
  // Seen only when the support system's bookkeeping takes longer than the turn waits.
  if (step === 'closureReopening') return stepView(step, { lines: [line('closureReopening.said', { reference })], helpKey: key('closureAsk.help') });
  // Left with BACK: the engine resumes what the person stood at; seen only if there is nothing.
  if (step === 'cancelled') return stepView(step, { lines: [line('cancelled', { reference })], helpKey: key('closureAsk.help') });
  throw new Error(`case-closure: unknown step "${step}"`);
}
