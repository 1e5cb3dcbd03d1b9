/**
 * Answers that fill more than one step (issue 16): a message may answer the question asked and the
 * ones after it ("the provisioning email never arrived, they checked spam already, the line says
 * Closed"). The recogniser reads what each statement of the message clearly answers at every
 * question (Recogniser.scanMessage); this turns that into the flow's ordinary CHOOSE events, one per
 * question in the flow's own order, for as long as the question the flow asks next is one the message
 * answered. The flow's own transitions decide where each answer leads and its trail keeps one entry
 * per question, so BACK walks back one step at a time. Planned on pure transitions (xstate
 * `transition`), sent by the engine.
 *
 * What may be taken for a question the person was not asked is the flow's to say, in its locales: an
 * answer is taken only when `<flow id>:fromMessage.answers.<step>.<choice>` exists ("the line is
 * “Closed”"), and those phrases make the one-line summary (`<flow id>:fromMessage.summary`, "From
 * your message I understood that {{answers}}, so I've skipped those questions"). A flow without them
 * is never skipped through.
 *
 * Only clear answers count (the recogniser's), and the skipping stops at a question the message does
 * not answer, or answers two ways (a contradiction). When the answer to the question asked would end
 * the flow while another of its options would lead on through questions the message answers ("yes,
 * checked spam, and the line says Closed" to "Did they find the email?"), or the message answers the
 * question asked two ways and goes on to answer what comes after, the answers disagree: the person
 * gets a clarifying question between the two instead.
 *
 * Answers to questions still ahead (the skipping stopped before them, or a clarifying question was
 * asked) are kept with the conversation for its next turn (`withRemembered`): once the question in
 * between is answered, by a press or in words, the ones the message answered are skipped then.
 */
import { transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { z } from 'zod';
import type { FlowDefinition, FlowEvent, Line, Locale, StepView } from '../../dialogs/flow';
import type { Translator } from '../i18n';
import type { MessageScan } from '../nlu/recogniser';

/** An answer taken from a message for a question that was not asked. */
export interface TakenAnswer {
  step: string;
  choice: string;
}

export type MessagePlan =
  /**
   * Send `events` in order (the asked question's answer first); `taken` are the skipped questions'
   * answers, `ahead` the answers to questions the flow may still ask.
   */
  | { kind: 'answers'; events: FlowEvent[]; taken: TakenAnswer[]; ahead: TakenAnswer[] }
  /** The message's answers disagree at the asked question: ask which of the two was meant. */
  | { kind: 'clarify'; options: [string, string]; ahead: TakenAnswer[] };

/** Whether the flow lets this answer be taken for a question that was not asked (see the file comment). */
export type CanTake = (step: string, choice: string) => boolean;

export interface PlanInput {
  flow: FlowDefinition;
  machine: AnyStateMachine;
  /** The flow where the message arrived, at the question asked. */
  snapshot: AnyMachineSnapshot;
  asked: StepView;
  /** The asked question's answer as the whole message was understood, if it was. */
  understood?: string;
  scan: MessageScan;
  canTake: CanTake;
}

const choose = (choice: string): FlowEvent => ({ type: 'CHOOSE', choice });
const offers = (view: StepView, choice: string): boolean => view.expects === 'choice' && view.choices.some((c) => c.id === choice);

/**
 * The events a message of several statements makes, or undefined when it changes nothing about how
 * the whole message was understood.
 */
export function planMessageAnswers(input: PlanInput): MessagePlan | undefined {
  const { asked, scan, understood, canTake } = input;
  const answers = scan.findings.filter((f) => f.step !== asked.step && !scan.contradicted.includes(f.step) && canTake(f.step, f.choice));
  const after = (choice: string) => {
    const at = transition(input.machine, input.snapshot, choose(choice))[0];
    return { at, taken: answersAhead({ ...input, snapshot: at, answers }) };
  };
  const notTaken = (taken: TakenAnswer[]) => answers.filter((a) => !taken.some((t) => t.step === a.step)).map(({ step, choice }) => ({ step, choice }));
  const contradicted = scan.contradicted.includes(asked.step);
  if (contradicted && !(understood && scan.likelyAtAsked.includes(understood))) {
    // Two statements answer the question asked two ways, and the whole message is no clear one of
    // them: ask which, when the rest of the message answers what comes after one of them (kept for
    // then); otherwise the whole message stands as it was understood.
    const [a, b, ...more] = scan.likelyAtAsked.filter((id) => offers(asked, id));
    if (!a || !b || more.length || answers.length === 0) return undefined;
    return after(a).taken.length || after(b).taken.length ? { kind: 'clarify', options: [a, b], ahead: notTaken([]) } : undefined;
  }
  // Read statement by statement, the asked question's answer is the surer one (a model asked about
  // three statements at once weighs them together), unless they disagree and the whole message
  // settles it.
  const first = (contradicted ? undefined : scan.findings.find((f) => f.step === asked.step)?.choice) ?? understood;
  if (!first || !offers(asked, first)) return undefined;

  const walked = after(first);
  if (walked.at.status !== 'active') {
    const other = asked.choices.find((c) => c.id !== first && !c.id.startsWith('cmd.') && after(c.id).taken.length > 0);
    if (other) return { kind: 'clarify', options: [first, other.id], ahead: notTaken([]) };
  }
  const ahead = notTaken(walked.taken);
  if (walked.taken.length === 0 && ahead.length === 0 && first === understood) return undefined;
  return { kind: 'answers', events: [choose(first), ...walked.taken.map((t) => choose(t.choice))], taken: walked.taken, ahead };
}

/**
 * The answers among `answers` the flow can take from `snapshot` on, in the order it asks their
 * questions: as long as the question it asks next is one of theirs. Each question once (a loop back
 * asks it again).
 */
export function answersAhead(input: { flow: FlowDefinition; machine: AnyStateMachine; snapshot: AnyMachineSnapshot; answers: readonly TakenAnswer[]; canTake: CanTake }): TakenAnswer[] {
  const { flow, machine, answers, canTake } = input;
  const taken: TakenAnswer[] = [];
  let snapshot = input.snapshot;
  while (snapshot.status === 'active') {
    const view = flow.view(snapshot as never);
    const choice = answers.find((a) => a.step === view.step)?.choice;
    if (!choice || taken.some((t) => t.step === view.step) || !canTake(view.step, choice) || !offers(view, choice)) break;
    taken.push({ step: view.step, choice });
    snapshot = transition(machine, snapshot, choose(choice))[0];
  }
  return taken;
}

const answerKey = (flowId: string, step: string, choice: string) => `${flowId}:fromMessage.answers.${step}.${choice}`;

/** Whether the flow lets this answer be taken from a message for a question that was not asked. */
export function canTakeFromMessage(translator: Translator, locale: Locale, flowId: string, step: string, choice: string): boolean {
  return translator.has(locale, answerKey(flowId, step, choice)) && translator.has(locale, `${flowId}:fromMessage.summary`, { count: 1 });
}

/** The one line that says what was taken from the message: the flow's phrases, listed as the language lists. */
export function takenSummary(translator: Translator, locale: Locale, flowId: string, taken: readonly TakenAnswer[]): Line {
  const answers = new Intl.ListFormat(locale, { type: 'conjunction' }).format(taken.map((t) => translator.t(locale, answerKey(flowId, t.step, t.choice))));
  return { key: `${flowId}:fromMessage.summary`, params: { answers, count: taken.length } };
}

/** Answers kept for the conversation's next turn: given while the flow asked `step`, for questions after it. */
export interface Remembered {
  step: string;
  answers: TakenAnswer[];
}

const KEY = 'answersAhead';
const remembered = z.object({ step: z.string(), answers: z.array(z.object({ step: z.string(), choice: z.string() })).max(50) });

/** The snapshot to store: with the answers still ahead, if any (a key XState ignores on restore, as ./clarification.ts does). */
export function withRemembered(snapshot: unknown, kept: Remembered | undefined): unknown {
  return kept?.answers.length && snapshot && typeof snapshot === 'object' ? { ...snapshot, [KEY]: kept } : snapshot;
}

/** The answers the stored snapshot kept for questions after `step`, if the flow still asks `step`. */
export function rememberedAt(stored: unknown, step: string): TakenAnswer[] {
  const kept = (stored as Record<string, unknown> | undefined)?.[KEY];
  // Most snapshots keep none: no failed parse (an error object and its issues) on every press.
  if (kept === undefined) return [];
  const parsed = remembered.safeParse(kept);
  return parsed.success && parsed.data.step === step ? parsed.data.answers : [];
}
