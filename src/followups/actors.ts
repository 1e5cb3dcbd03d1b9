/**
 * The runtime side of the after-ending and follow-up flows' actors, built per turn: each adds rows
 * to the turn's commit, so a rating, a follow-up or its answer is stored with the turn or not at all.
 * The due time is the runtime's clock plus the hours the flow asked for; the rating keeps no name,
 * email or user id, and its comment is masked (./mask.ts).
 */
import { randomUUID } from 'node:crypto';
import { fromPromise } from 'xstate';
import { answerFollowupInput, commentRatingInput, rateEndingInput, scheduleFollowupInput, type RatedEnding } from '../../dialogs/followup/contract';
import type { TurnScope } from '../engine/scope';
import type { FollowupWrites } from './repository';
import type { SatisfactionWrites } from './satisfaction-repository';
import { maskComment } from './mask';

export interface FollowupActorsDeps {
  newId?: () => string;
  /** Metrics: a follow-up accepted or answered, a rating given. */
  onFollowup?: (event: 'accepted' | 'arrived' | 'not_arrived') => void;
  onRating?: (rating: 'up' | 'down', channel: string) => void;
}

const addFollowups = (scope: TurnScope, more: FollowupWrites) => {
  const was = scope.commit.followups ?? {};
  scope.commit.followups = {
    scheduled: [...(was.scheduled ?? []), ...(more.scheduled ?? [])],
    cancelled: [...(was.cancelled ?? []), ...(more.cancelled ?? [])],
    answered: [...(was.answered ?? []), ...(more.answered ?? [])],
  };
};

export function addSatisfaction(scope: TurnScope, more: SatisfactionWrites): void {
  const was = scope.commit.satisfaction ?? {};
  scope.commit.satisfaction = { rated: [...(was.rated ?? []), ...(more.rated ?? [])], commented: [...(was.commented ?? []), ...(more.commented ?? [])] };
}

/** Cancels every pending follow-up of the turn's conversation in its commit. */
export function cancelFollowups(scope: TurnScope, reason: 'wrote' | 'stopped'): void {
  addFollowups(scope, { cancelled: [{ conversationKey: scope.conversationKey, reason, at: scope.now }] });
}

export function followupActors(deps: FollowupActorsDeps = {}) {
  const newId = deps.newId ?? randomUUID;
  return (scope: TurnScope) => ({
    scheduleFollowup: fromPromise<{ id: string }, unknown>(async ({ input }) => {
      const f = scheduleFollowupInput.parse(input);
      const id = newId();
      const dueAt = new Date(Date.parse(scope.now) + f.hours * 3_600_000).toISOString();
      addFollowups(scope, {
        scheduled: [{ id, conversationKey: scope.conversationKey, ending: f.ending, channel: scope.inbound.channel, mode: f.mode, hours: f.hours, dueAt, intake: f.intake, createdAt: scope.now }],
      });
      deps.onFollowup?.('accepted');
      return { id };
    }),
    rateEnding: fromPromise<RatedEnding, unknown>(async ({ input }) => {
      const { ending, rating } = rateEndingInput.parse(input);
      const id = newId();
      const { channel } = scope.inbound;
      addSatisfaction(scope, {
        rated: [{ id, flow: ending.flow, ending: ending.step, outcome: ending.outcome, locale: scope.locale, channel, mode: ending.mode, rating, at: scope.now }],
      });
      deps.onRating?.(rating, channel);
      return { id };
    }),
    commentRating: fromPromise<null, unknown>(async ({ input }) => {
      const { id, comment } = commentRatingInput.parse(input);
      // Masked with all the channel knows of the person (Teams: the email too).
      const masked = maskComment(comment, (await scope.identified()).user).slice(0, 2000);
      if (id && masked) addSatisfaction(scope, { commented: [{ id, comment: masked }] });
      return null;
    }),
    answerFollowup: fromPromise<null, unknown>(async ({ input }) => {
      const { id, answer } = answerFollowupInput.parse(input);
      addFollowups(scope, { answered: [{ id, answer }] });
      deps.onFollowup?.(answer);
      return null;
    }),
  });
}
