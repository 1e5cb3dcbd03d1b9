/**
 * The provisioning-contact troubleshooting flow as a pure XState v5 machine, derived from its step
 * table (steps.ts): one state per question and per ending, named as in the table.
 *
 * Every answer is appended to `trail`; everything the flow knows about the order (`answers`) is
 * derived from the trail, so BACK is "drop the last answer and return to its step" and nothing
 * else has to be undone.
 */
import { assign, setup } from 'xstate';
import type { FlowDefinition, FlowEvent, FlowInput, FlowOutput } from '../flow';
import { choice, chose, onChoose, statesOf, stepsOf, toEachStep } from '../kit';
import type { CaseReason, TrailEntry } from '../support-case/case-draft';
import { JUMP_PREFIX } from './agent-view';
import { BROWSER_FIXES, deriveAnswers, type BrowserFix } from './answers';
import type { ProvisioningContactContext as AnyStepContext } from './context';
import { CMD_RESTART, CMD_SUPPORT, ENDINGS, MISSES_BEFORE_SUPPORT_OFFER, QUESTIONS, type Question, type QuestionStep } from './steps';
import { provisioningContactView } from './view';

/** Question steps, in the order of the decision tree. Each one answers BACK/SUPPORT/UNRECOGNISED. */
export const QUESTION_STEPS = stepsOf(QUESTIONS);
export const FINAL_STEPS = stepsOf(ENDINGS);

/** What the trail says about the order: each answer records what its option in the table says. */
const answersFrom = (trail: readonly TrailEntry[]) =>
  deriveAnswers(trail, ({ step, choice }) => (QUESTIONS as Record<string, Question>)[step]?.options[choice ?? '']?.records);

type ProvisioningContactContext = AnyStepContext<QuestionStep>;

function initialContext(input: FlowInput): ProvisioningContactContext {
  return { input, mode: input.mode, step: 'entry', trail: [], answers: answersFrom([]), misses: 0 };
}

/** The step a jump (the JUMP event or a `jump.<step>` button) asks for. */
function jumpTarget(event: FlowEvent): string | undefined {
  if (event.type === 'JUMP') return event.step;
  if (event.type === 'CHOOSE' && event.choice.startsWith(JUMP_PREFIX)) return event.choice.slice(JUMP_PREFIX.length);
  return undefined;
}

const flowSetup = setup({
  types: {
    context: {} as ProvisioningContactContext,
    events: {} as FlowEvent,
    input: {} as FlowInput,
    output: {} as FlowOutput,
  },
  actions: {
    enterStep: assign((_, params: { step: QuestionStep }) => ({ step: params.step, misses: 0 })),
    clearNotice: assign({ notice: undefined }),
    recordAnswer: assign(({ context, event }) => {
      if (event.type !== 'CHOOSE') return {};
      const trail = [...context.trail, { step: context.step, choice: event.choice }];
      return { trail, answers: answersFrom(trail) };
    }),
    undoLastAnswer: assign(({ context }) => {
      const trail = context.trail.slice(0, -1);
      return { trail, answers: answersFrom(trail) };
    }),
    noteNothingToUndo: assign({ notice: 'nothingToUndo' as const }),
    noteReturned: assign({ returned: true as const }),
    /** Jump back to an earlier question: its answer and every later one are discarded. */
    jumpTo: assign(({ context }, params: { step: QuestionStep }) => {
      const at = context.trail.findLastIndex((e) => e.step === params.step);
      const trail = at >= 0 ? context.trail.slice(0, at) : context.trail;
      return { trail, answers: answersFrom(trail) };
    }),
    countMiss: assign({ misses: ({ context }) => context.misses + 1 }),
    forgetMisses: assign({ misses: 0 }),
    setCaseReason: assign((_, params: { reason: CaseReason }) => ({ caseReason: params.reason })),
    /** The person asked for support: the trail shows where, the reason whether we had understood them. */
    recordSupportRequest: assign(({ context }) => ({
      trail: [...context.trail, { step: context.step, choice: CMD_SUPPORT }],
      caseReason: context.misses >= MISSES_BEFORE_SUPPORT_OFFER ? ('not_understood' as const) : ('requested' as const),
    })),
    restart: assign(({ context }) => initialContext(context.input)),
    /** Reaching N9: nothing here; `offeringAPerson` provides it when engineers take hand-offs. */
    notePersonOffer: () => {},
  },
  guards: {
    chose,
    lastAnswerWasAt: ({ context }, params: { step: QuestionStep }) => context.trail.at(-1)?.step === params.step,
    jumpsTo: ({ context, event }, params: { step: QuestionStep }) =>
      jumpTarget(event) === params.step && context.trail.some((e) => e.step === params.step),
    orderIsClosed: ({ context }) => context.answers.orderLineStatus === 'closed',
    choseUntriedFix: ({ context, event }) =>
      event.type === 'CHOOSE' &&
      (BROWSER_FIXES as readonly string[]).includes(event.choice) &&
      !context.answers.fixesTried.includes(event.choice as BrowserFix),
    allFixesTried: ({ context }) => BROWSER_FIXES.every((f) => context.answers.fixesTried.includes(f)),
    /** The person changed the contact in this conversation (rather than only coming to check). */
    editedInThisConversation: ({ context }) => context.answers.fixesTried.includes('edit_steps'),
  },
});

/** Back to an earlier question, by JUMP or by a `jump.<step>` button (the view offers them to agents). */
const jumps = toEachStep(QUESTION_STEPS, 'jumpsTo', (step) => ['clearNotice' as const, { type: 'jumpTo' as const, params: { step } }, 'noteReturned' as const]);

export const provisioningContactMachine = flowSetup.createMachine({
  id: 'provisioningContact',
  context: ({ input }) => initialContext(input),
  // A top-level final state's output becomes the machine's output only through this (see dialogs/flow.ts).
  output: ({ event }) => event.output as FlowOutput,
  initial: 'entry',
  on: {
    BACK: [
      ...toEachStep(QUESTION_STEPS, 'lastAnswerWasAt', () => ['clearNotice' as const, 'undoLastAnswer' as const, 'noteReturned' as const]),
      // Nothing to undo; a miss before it is no longer the last thing said (its re-prompt goes).
      { actions: ['noteNothingToUndo', 'noteReturned', 'forgetMisses'] },
    ],
    JUMP: jumps,
    RESTART: { target: '.entry', actions: 'restart' },
    RESUME: { actions: 'noteReturned' },
    SUPPORT: { target: '.needsCase', actions: 'recordSupportRequest' },
    UNRECOGNISED: { actions: ['clearNotice', 'countMiss'] },
    CHOOSE: [
      // Choices the view adds to any step; the engine usually turns them into commands first.
      ...jumps,
      { guard: choice(CMD_SUPPORT), target: '.needsCase', actions: 'recordSupportRequest' },
      { guard: choice(CMD_RESTART), target: '.entry', actions: 'restart' },
      // A choice the step does not offer (an old button): treated as not understood.
      { actions: ['clearNotice', 'countMiss'] },
    ],
  },
  states: {
    // A question: entering it makes it the current step (misses start again), leaving it drops the
    // one-turn notice, and its options are tried in the table's order.
    ...statesOf(QUESTIONS, (step, question: Question<string>) => ({
      entry: [{ type: 'enterStep' as const, params: { step } }],
      exit: 'clearNotice' as const,
      on: {
        CHOOSE: onChoose(question.options, (b) =>
          b.caseReason ? ['recordAnswer' as const, { type: 'setCaseReason' as const, params: { reason: b.caseReason } }] : ('recordAnswer' as const),
        ),
      },
    })),
    ...statesOf(ENDINGS, (step, ending) => ({
      type: 'final' as const,
      // Entry actions run before the output is read: N9's output sees what `notePersonOffer` set.
      entry: step === 'needsCase' ? ['notePersonOffer' as const] : [],
      output: ({ context }: { context: ProvisioningContactContext }): FlowOutput => ({ outcome: ending.outcome, ...ending.output(context) }),
    })),
  },
});

export const provisioningContactFlow: FlowDefinition<typeof provisioningContactMachine> = {
  id: 'provisioning-contact',
  version: 2,
  machine: provisioningContactMachine,
  view: provisioningContactView,
};

/**
 * The flow with hand-offs to people configured (issue 22): N9 offers a person beside a case
 * (dialogs/handoff/), instead of the case intake at once.
 */
export function offeringAPerson(flow: typeof provisioningContactFlow): typeof provisioningContactFlow {
  return { ...flow, machine: flow.machine.provide({ actions: { notePersonOffer: assign({ personOffered: true as const }) } }) };
}
