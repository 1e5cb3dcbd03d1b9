/**
 * Case closure: "support closed PCE-…: is it solved?" (the tables in steps.ts). Started by the
 * runtime over whatever the conversation stood at; every ending returns there
 * (`FlowOutput.returnToParent`), except a new case, which hands over to the support-case intake with
 * what the closed case knew. BACK at the first question leaves it the same way. Pure: no clock, no I/O.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { FlowDefinition, FlowEvent, FlowOutput } from '../flow';
import { chose, onChoose, statesOf } from '../kit';
import { SUPPORT_CASE_FLOW_ID } from '../support-case/contract';
import type { CaseClosureContext } from './context';
import { CASE_CLOSURE_FLOW_ID, ENDINGS, QUESTIONS, type CaseClosureInput, type FinalStep, type ReopenRequestInput, type ReopenRequestOutput } from './steps';
import { caseClosureView } from './view';

export type { CaseClosureContext } from './context';

function endingOutput(step: FinalStep, context: CaseClosureContext): FlowOutput {
  const { outcome } = ENDINGS[step];
  const reference = context.input.case.reference;
  if (step !== 'closureNewCase') return { outcome, reference, returnToParent: true };
  const { flowInput, draft } = context.input;
  // The trail says why this case follows the closed one, for the engineer who reads it.
  const trail = [...(draft.trail ?? []), { step: 'closure.notSolved', text: reference }];
  return { outcome, reference, next: { flow: SUPPORT_CASE_FLOW_ID, input: { flowInput, draft: { ...draft, trail, reason: 'requested' } } } };
}

export const caseClosureMachine = setup({
  types: {
    context: {} as CaseClosureContext,
    events: {} as FlowEvent,
    input: {} as CaseClosureInput,
    output: {} as FlowOutput,
  },
  actors: {
    // Provided by the runtime (src/cases/reopen.ts); this default fails so a missing wiring is visible.
    requestReopen: fromPromise<ReopenRequestOutput, ReopenRequestInput>(async () => {
      throw new Error('requestReopen is not provided by the runtime');
    }),
  },
  guards: { chose },
  actions: {
    miss: assign({ missed: true as const }),
    clearMiss: assign({ missed: undefined }),
  },
}).createMachine({
  id: 'caseClosure',
  context: ({ input }) => ({ input, mode: input.flowInput.mode }),
  output: ({ event }) => event.output as FlowOutput,
  initial: 'closureAsk',
  on: {
    UNRECOGNISED: { actions: 'miss' },
    TEXT: { actions: 'miss' },
    // An option of another step (an old button) or a command the engine left to the flow.
    CHOOSE: { actions: 'miss' },
    RESUME: { actions: 'clearMiss' },
  },
  states: {
    ...statesOf(QUESTIONS, (step, question) => ({
      exit: 'clearMiss' as const,
      on: {
        CHOOSE: onChoose(question.options, () => undefined),
        BACK: step === 'closureAsk' ? '#caseClosure.cancelled' : '#caseClosure.closureAsk',
      },
    })),
    // The request goes to the support system (an addition to the case, kept with the turn).
    closureReopening: {
      tags: ['busy'],
      on: { BACK: { actions: [] } },
      invoke: {
        src: 'requestReopen',
        input: ({ context }) => ({ reference: context.input.case.reference }),
        onDone: [{ guard: ({ event }) => event.output.sent, target: 'closureReopen' }, { target: 'closureReopenYourself' }],
        onError: { target: 'closureReopenYourself' },
      },
    },
    ...statesOf(ENDINGS, (step) => ({
      type: 'final' as const,
      output: ({ context }: { context: CaseClosureContext }) => endingOutput(step, context),
    })),
    cancelled: { type: 'final', output: { outcome: 'cancelled' } satisfies FlowOutput },
  },
});

export const caseClosureFlow: FlowDefinition<typeof caseClosureMachine> = {
  id: CASE_CLOSURE_FLOW_ID,
  version: 1,
  machine: caseClosureMachine,
  view: caseClosureView,
};
