/**
 * The follow-up flow (the table in ./steps.ts): started by the runtime over whatever the conversation
 * stands at when a follow-up is due (src/followups/worker.ts); its endings return there
 * (`FlowOutput.returnToParent`), except a case, which hands over to the support-case intake with what
 * the guide knew. The answer to the first question is recorded on the follow-up (`answerFollowup`,
 * provided by the runtime). Pure: no clock, no I/O.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { FlowDefinition, FlowEvent, FlowOutput } from '../flow';
import { chose, onChoose, statesOf } from '../kit';
import { SUPPORT_CASE_FLOW_ID } from '../support-case/contract';
import { FOLLOWUP_FLOW_ID, type AnswerFollowupInput, type FollowupInput } from './contract';
import { AFTER_NO, CASE_REASON, ENDINGS, QUESTIONS, type FinalStep, type QuestionStep } from './steps';
import { followupView, type FollowupContext } from './view';

function endingOutput(step: FinalStep, c: FollowupContext): FlowOutput {
  const { outcome } = ENDINGS[step];
  const intake = c.input.intake;
  if (step !== 'followupCase' || !intake) return { outcome, returnToParent: true };
  // The trail says what the follow-up found, for the engineer who reads the case.
  const trail = [...(intake.draft.trail ?? []), ...c.trail];
  const draft = { ...intake.draft, trail, reason: CASE_REASON[c.lastQuestion] };
  return { outcome, next: { flow: SUPPORT_CASE_FLOW_ID, input: { flowInput: c.input.flowInput, draft } } };
}

const answer = (value: AnswerFollowupInput['answer']) => ({ context }: { context: FollowupContext }) => ({ id: context.input.id, answer: value });

export const followupMachine = setup({
  types: {
    context: {} as FollowupContext,
    events: {} as FlowEvent,
    input: {} as FollowupInput,
    output: {} as FlowOutput,
  },
  actors: {
    answerFollowup: fromPromise<unknown, AnswerFollowupInput>(async () => {
      throw new Error('answerFollowup is not provided by the runtime');
    }),
  },
  guards: {
    chose,
    noLeadsToVerify: ({ context }) => AFTER_NO[context.input.ending] === 'followupVerify',
  },
  actions: {
    record: assign(({ context, event }) => (event.type === 'CHOOSE' ? { trail: [...context.trail, { step: context.lastQuestion, choice: event.choice }] } : {})),
    at: assign((_, params: { step: QuestionStep }) => ({ lastQuestion: params.step })),
    miss: assign({ missed: true as const }),
    clearMiss: assign({ missed: undefined }),
  },
}).createMachine({
  id: 'followup',
  context: ({ input }) => ({ input, mode: input.flowInput.mode, trail: [], lastQuestion: 'followupAsk' as QuestionStep }),
  output: ({ event }) => event.output as FlowOutput,
  initial: 'followupAsk',
  on: {
    // Back at a question after a flow over this one: asked again without the reprompt.
    RESUME: { actions: 'clearMiss' },
    // Anything a question does not take (typed text, an old button): asked again with its options.
    UNRECOGNISED: { actions: 'miss' },
    TEXT: { actions: 'miss' },
    CHOOSE: { actions: 'miss' },
  },
  states: {
    ...statesOf(QUESTIONS, (step, question) => ({
      entry: [{ type: 'at' as const, params: { step } }],
      exit: 'clearMiss' as const,
      on: {
        CHOOSE: onChoose(Object.fromEntries(Object.entries(question.options).map(([id, to]) => [id, { to }])), () => 'record' as const),
        BACK: step === 'followupAsk' ? '#followup.followupCancelled' : '#followup.followupAsk',
      },
    })),
    followupArrived: {
      tags: ['busy'],
      invoke: { src: 'answerFollowup', input: answer('arrived'), onDone: 'followupConfirmed', onError: 'followupConfirmed' },
    },
    followupNotArrived: {
      tags: ['busy'],
      invoke: {
        src: 'answerFollowup',
        input: answer('not_arrived'),
        onDone: [{ guard: 'noLeadsToVerify', target: 'followupVerify' }, { target: 'followupCase' }],
        onError: [{ guard: 'noLeadsToVerify', target: 'followupVerify' }, { target: 'followupCase' }],
      },
    },
    ...statesOf(ENDINGS, (step) => ({
      type: 'final' as const,
      output: ({ context }: { context: FollowupContext }) => endingOutput(step, context),
    })),
    followupCancelled: { type: 'final', output: { outcome: 'cancelled' } satisfies FlowOutput },
  },
});

export const followupFlow: FlowDefinition<typeof followupMachine> = {
  id: FOLLOWUP_FLOW_ID,
  version: 1,
  machine: followupMachine,
  view: followupView,
};
