/**
 * Talking to a person (the tables in steps.ts). From the guide's N9 ending the flow asks the
 * runtime whether engineers take hand-offs now (`handoffAvailability`): with none to ask, it hands
 * over to the case intake at once, as before; outside opening hours it says when they are back and
 * offers a case; during them, it offers a person beside a case, and a person is asked for
 * through the runtime (`requestHandoff`). Started by the runtime over whatever the conversation stood
 * at, it shows the live chat (the runtime relays the messages), asks whether the problem is solved
 * once the chat ended, or offers a case when nobody came. Pure: no clock, no I/O.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { FlowDefinition, FlowEvent, FlowInput, FlowOutput } from '../flow';
import { chose, onChoose, statesOf } from '../kit';
import type { CaseDraft } from '../support-case/case-draft';
import { SUPPORT_CASE_FLOW_ID } from '../support-case/contract';
import type { HandoffContext } from './context';
import { availability, type Availability, END_CHAT, ENDINGS, HANDOFF_FLOW_ID, QUESTIONS, requested, type FinalStep, type HandoffInput, type Requested } from './steps';
import { handoffView } from './view';

export type { HandoffContext } from './context';

/** The case intake's input: what is known, with the hand-off in the trail for the engineer who reads it. */
function caseInput(context: HandoffContext): { flowInput: FlowInput; draft: Partial<CaseDraft> } {
  const { flowInput, draft } = context.input;
  const trail = context.handoff.id ? [...(draft.trail ?? []), { step: 'handoff', text: context.handoff.id }] : (draft.trail ?? []);
  return { flowInput, draft: { ...draft, trail } };
}

function endingOutput(step: FinalStep, context: HandoffContext): FlowOutput {
  const { outcome } = ENDINGS[step];
  const handoff = context.handoff.id;
  if (step === 'toCase') return { outcome, handoff, next: { flow: SUPPORT_CASE_FLOW_ID, input: caseInput(context) } };
  // Asked for and waiting: "open a case" after this still reaches the intake with what is known.
  if (step === 'requested') return { outcome, handoff, onSupport: { flow: SUPPORT_CASE_FLOW_ID, input: caseInput(context) } };
  return { outcome, handoff, returnToParent: true };
}

const stageIs = (s: HandoffInput['stage']) => ({ context }: { context: HandoffContext }) => context.input.stage === s;

export const handoffMachine = setup({
  types: {
    context: {} as HandoffContext,
    events: {} as FlowEvent,
    input: {} as HandoffInput,
    output: {} as FlowOutput,
  },
  actors: {
    // Provided by the runtime (src/handoff/); these defaults fail so a missing wiring is visible.
    handoffAvailability: fromPromise<Availability, void>(async () => {
      throw new Error('handoffAvailability is not provided by the runtime');
    }),
    requestHandoff: fromPromise<Requested, { flowInput: FlowInput; draft: Partial<CaseDraft> }>(async () => {
      throw new Error('requestHandoff is not provided by the runtime');
    }),
  },
  guards: {
    chose,
    live: stageIs('live'),
    ended: stageIs('ended'),
    expired: stageIs('expired'),
    open: ({ event }) => availability.safeParse((event as { output?: unknown }).output).data?.open === true,
    closed: ({ event }) => availability.safeParse((event as { output?: unknown }).output).data?.closed === true,
  },
  actions: {
    miss: assign({ missed: true as const }),
    quiet: assign({ quiet: true as const }),
    clearMiss: assign({ missed: undefined }),
    rememberRequest: assign(({ context, event }) => {
      const kept = requested.parse((event as { output?: unknown }).output);
      return { handoff: { ...context.handoff, id: kept.id, waitMinutes: kept.waitMinutes } };
    }),
    rememberBack: assign(({ event }) => ({ back: availability.safeParse((event as { output?: unknown }).output).data?.back })),
    endedByPerson: assign(({ context }) => ({ handoff: { ...context.handoff, endedBy: 'person' as const } })),
  },
}).createMachine({
  id: 'handoff',
  context: ({ input }) => ({ input, mode: input.flowInput.mode, handoff: input.handoff }),
  output: ({ event }) => event.output as FlowOutput,
  initial: 'start',
  on: {
    // Anything a question does not take (typed words, an old button, a command left to the flow) asks it again.
    RESUME: { actions: 'clearMiss' },
    CHOOSE: { actions: 'miss' },
    TEXT: { actions: 'miss' },
    UNRECOGNISED: { actions: 'miss' },
  },
  states: {
    start: {
      always: [
        { guard: 'live', target: 'live' },
        { guard: 'ended', target: 'solvedAsk' },
        { guard: 'expired', target: 'expiredOffer' },
        { target: 'offer' },
      ],
    },
    offer: {
      tags: ['busy'],
      // Back here from the case intake's first question (BACK): the person goes on back to the guide.
      on: { RESUME: 'cancelled' },
      // Off (no engineers' space ready) or failing: straight to the case intake, as without the feature.
      invoke: {
        src: 'handoffAvailability',
        onDone: [{ guard: 'open', target: 'offerAsk' }, { guard: 'closed', target: 'closedAsk', actions: 'rememberBack' }, { target: 'toCase' }],
        onError: { target: 'toCase' },
      },
    },
    requesting: {
      tags: ['busy'],
      on: { BACK: { actions: [] } },
      invoke: {
        src: 'requestHandoff',
        input: ({ context }) => caseInput(context),
        onDone: { target: 'requested', actions: 'rememberRequest' },
        onError: { target: 'toCase' },
      },
    },
    ...statesOf(QUESTIONS, (step, question) => ({
      exit: 'clearMiss' as const,
      on: {
        CHOOSE: onChoose(question.options, () => (step === 'live' ? ('endedByPerson' as const) : undefined)),
        // The live chat is left only by ending it; any other question by BACK.
        BACK: step === 'live' ? { actions: [] } : '#handoff.cancelled',
        ...(step === 'live' ? { RESUME: '#handoff.left', UNRECOGNISED: { actions: 'quiet' as const }, TEXT: { actions: 'quiet' as const } } : {}),
      },
    })),
    ...statesOf(ENDINGS, (step) => ({
      type: 'final' as const,
      output: ({ context }: { context: HandoffContext }) => endingOutput(step, context),
    })),
    cancelled: { type: 'final', output: { outcome: 'cancelled' } satisfies FlowOutput },
  },
});

/** The choice that ends the chat, as the runtime sends it for a typed "end". */
export const endChat: FlowEvent = { type: 'CHOOSE', choice: END_CHAT };

export const handoffFlow: FlowDefinition<typeof handoffMachine> = {
  id: HANDOFF_FLOW_ID,
  version: 1,
  machine: handoffMachine,
  view: handoffView,
};
