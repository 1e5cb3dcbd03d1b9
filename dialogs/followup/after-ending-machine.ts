/**
 * After an ending (issue 23): the person pressed 👍/👎 or "check back with me tomorrow". A rating is
 * stored at once (no name, no email, no user id) and an optional comment may follow; "check back"
 * schedules a follow-up. Both are the runtime's actors (src/followups/actors.ts), which add rows to
 * the turn's commit. Started by the runtime over the ending (src/engine/ending-choices.ts); its own
 * endings offer what is still on offer, and carry what is done to the next run of it. Pure.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { FlowDefinition, FlowEvent, FlowOutput } from '../flow';
import { chose } from '../kit';
import { AFTER_ENDING_FLOW_ID, CHECK_BACK, followupIntake, HELPED, NOT_HELPED, type AfterEndingCarry, type AfterEndingInput, type CommentRatingInput, type RatedEnding, type RateEndingInput, type ScheduleFollowupInput } from './contract';
import { afterEndingView, SKIP_COMMENT, type AfterEndingContext } from './after-ending-view';

/**
 * What the next run carries from an ending of this one. The hand-off is the output's `onSupport`, and
 * what a follow-up knows is derived from it (`followupIntake`): each is stored once. A follow-up's
 * intake an earlier version kept is kept while no hand-off is carried to derive it from.
 */
function carryOf(c: AfterEndingContext): AfterEndingCarry {
  const { ending, followup, onSupport, showsSupport } = c.input;
  const offered = followup && (onSupport ? { ending: followup.ending, hours: followup.hours } : followup);
  return { ending, ...(offered ? { followup: offered } : {}), rated: c.rated, followupPending: c.followupPending, ...(onSupport ? { showsSupport } : {}) };
}

const ended = ({ context }: { context: AfterEndingContext }): FlowOutput => ({
  outcome: 'handed_over',
  carry: carryOf(context),
  ...(context.input.onSupport ? { onSupport: context.input.onSupport } : {}),
});

export const afterEndingMachine = setup({
  types: {
    context: {} as AfterEndingContext,
    events: {} as FlowEvent,
    input: {} as AfterEndingInput,
    output: {} as FlowOutput,
  },
  actors: {
    scheduleFollowup: fromPromise<unknown, ScheduleFollowupInput>(async () => {
      throw new Error('scheduleFollowup is not provided by the runtime');
    }),
    rateEnding: fromPromise<RatedEnding, RateEndingInput>(async () => {
      throw new Error('rateEnding is not provided by the runtime');
    }),
    commentRating: fromPromise<unknown, CommentRatingInput>(async () => {
      throw new Error('commentRating is not provided by the runtime');
    }),
  },
  guards: {
    chose,
    choseCheckBack: ({ context, event }) => event.type === 'CHOOSE' && event.choice === CHECK_BACK && context.input.followup !== undefined && !context.followupPending,
    canHandOff: ({ context }) => context.input.onSupport !== undefined,
  },
  actions: {
    scheduled: assign({ followupPending: true }),
    rated: assign({ rated: true, ratingId: ({ event }) => (event as unknown as { output?: RatedEnding }).output?.id }),
    miss: assign({ missed: true }),
    clearMiss: assign({ missed: undefined }),
  },
}).createMachine({
  id: 'afterEnding',
  context: ({ input }) => ({ input, mode: input.ending.mode, rated: input.rated, followupPending: input.followupPending }),
  output: ({ event }) => event.output as FlowOutput,
  initial: 'afterStart',
  on: {
    UNRECOGNISED: { actions: 'miss' },
    CHOOSE: { actions: 'miss' },
    // "Talk to support" before the ending: the hand-off the rated ending offered.
    SUPPORT: { guard: 'canHandOff', target: '.afterToSupport' },
  },
  states: {
    // The press that started this flow comes as its first event (its actors run once it has started).
    afterStart: {
      on: {
        CHOOSE: [
          { guard: { type: 'chose', params: { choice: CHECK_BACK } }, target: 'afterScheduling' },
          { guard: { type: 'chose', params: { choice: HELPED } }, target: 'afterRatingUp' },
          { guard: { type: 'chose', params: { choice: NOT_HELPED } }, target: 'afterRatingDown' },
        ],
      },
    },
    afterScheduling: {
      tags: ['busy'],
      invoke: {
        src: 'scheduleFollowup',
        input: ({ context }) => ({ ending: context.input.followup!.ending, hours: context.input.followup!.hours, intake: followupIntake(context.input), mode: context.mode }),
        onDone: { target: 'afterCheckBackSet', actions: 'scheduled' },
        onError: { target: 'afterCheckBackFailed' },
      },
    },
    afterRatingUp: {
      tags: ['busy'],
      invoke: { src: 'rateEnding', input: ({ context }) => ({ ending: context.input.ending, rating: 'up' as const }), onDone: { target: 'afterComment', actions: 'rated' }, onError: { target: 'afterThanked' } },
    },
    afterRatingDown: {
      tags: ['busy'],
      invoke: { src: 'rateEnding', input: ({ context }) => ({ ending: context.input.ending, rating: 'down' as const }), onDone: { target: 'afterComment', actions: 'rated' }, onError: { target: 'afterThanked' } },
    },
    // The optional comment: typed text, or "no, that's all"; "check back" may still be taken here.
    afterComment: {
      exit: 'clearMiss',
      on: {
        TEXT: { target: 'afterCommenting' },
        CHOOSE: [
          { guard: { type: 'chose', params: { choice: SKIP_COMMENT } }, target: 'afterThanked' },
          { guard: 'choseCheckBack', target: 'afterScheduling' },
          { actions: 'miss' },
        ],
        BACK: 'afterThanked',
      },
    },
    afterCommenting: {
      tags: ['busy'],
      invoke: {
        src: 'commentRating',
        input: ({ context, event }) => ({ id: context.ratingId ?? '', comment: (event as { type: string; text?: string }).text ?? '' }),
        onDone: { target: 'afterThanked' },
        onError: { target: 'afterThanked' },
      },
    },
    afterThanked: { type: 'final', output: ended },
    afterCheckBackSet: { type: 'final', output: ended },
    afterCheckBackFailed: { type: 'final', output: ended },
    afterToSupport: { type: 'final', output: ({ context }) => ({ outcome: 'handed_over', next: context.input.onSupport }) satisfies FlowOutput },
  },
});

export const afterEndingFlow: FlowDefinition<typeof afterEndingMachine> = {
  id: AFTER_ENDING_FLOW_ID,
  version: 1,
  machine: afterEndingMachine,
  view: afterEndingView,
};
