/**
 * What the follow-up pieces share (issue 23): the choices every ending offers beyond its own ("did
 * this help?" and, at some endings, "check back with me tomorrow"), the input of the small flow those
 * choices start over the ending (./after-ending-machine.ts), and the input of the flow the bot starts
 * on its own when a follow-up is due (./machine.ts). Pure: the delay comes from the runtime's config,
 * the due time from its clock.
 */
import { z } from 'zod';
import { flowInput, flowMode } from '../flow';
import { caseIntakeInput, type CaseIntakeInput } from '../support-case/case-draft';

export const FOLLOWUP_FLOW_ID = 'followup';
export const AFTER_ENDING_FLOW_ID = 'after-ending';
/** The event a due follow-up starts (src/engine/proactive.ts). */
export const FOLLOWUP_DUE_EVENT = 'followupDue';

/** Choice ids an ending offers beyond the flow's own (typed synonyms in locales/<lng>/recognizer.json). */
export const HELPED = 'helped';
export const NOT_HELPED = 'not_helped';
export const CHECK_BACK = 'check_back';
export const endingChoice = z.enum([HELPED, NOT_HELPED, CHECK_BACK]);
export type EndingChoiceId = z.infer<typeof endingChoice>;
export const rating = z.enum(['up', 'down']);
export type Rating = z.infer<typeof rating>;

/** The provisioning-contact endings whose promise a follow-up checks. */
export const followupEnding = z.enum(['changeConfirmed', 'forwardToOwner', 'adminPortal']);
export type FollowupEnding = z.infer<typeof followupEnding>;

/**
 * An ending's output offering a follow-up (`FlowOutput.followup`): which promise it checks, and in
 * which channel (the runtime knows which channels can reach a conversation later). The case
 * hand-off on offer at that ending (`onSupport`) is what the follow-up knows if the email never came.
 */
export const followupOffer = z.object({ ending: followupEnding, channel: z.string() });
export type FollowupOffer = z.infer<typeof followupOffer>;

/** The ending a rating is about: no personal data, only where and how the run ended. */
export const endingRef = z.object({ flow: z.string(), step: z.string(), outcome: z.string(), mode: flowMode });
export type EndingRef = z.infer<typeof endingRef>;

/** A hand-off the ended flow still offers ("talk to support" after the rating). */
const handOff = z.object({ flow: z.string(), input: z.unknown() });

/**
 * What the after-ending flow carries from one of its endings to the next run of it (a rating after
 * "check back", or the reverse): the ending rated, what is already done, what is still on offer.
 */
export const afterEndingCarry = z.object({
  ending: endingRef,
  /**
   * Offered here: the delay (hours, from config). What a follow-up knows for a case is the hand-off's
   * input (`followupIntake`); `intake` is only read, from rows stored before it was kept once.
   */
  followup: z.object({ ending: followupEnding, hours: z.number().positive(), intake: caseIntakeInput.optional() }).optional(),
  rated: z.boolean(),
  /** A follow-up is scheduled from this ending and not yet cancelled: the next message cancels it. */
  followupPending: z.boolean(),
  /** In the input; an ending's carry leaves it to the output's own `onSupport` (older rows have it here too). */
  onSupport: handOff.optional(),
  /** The ending showed "talk to support" (the hand-off is taken when asked for either way). */
  showsSupport: z.boolean().optional(),
});
export type AfterEndingCarry = z.infer<typeof afterEndingCarry>;

export const afterEndingInput = afterEndingCarry.extend({ flowInput, choice: endingChoice });
export type AfterEndingInput = z.infer<typeof afterEndingInput>;

/**
 * What a follow-up from this ending knows for a case if the email never came: the case hand-off on
 * offer there (stored once, as `onSupport`), or the copy rows stored by earlier versions kept.
 */
export function followupIntake(c: Pick<AfterEndingCarry, 'followup' | 'onSupport'>): CaseIntakeInput | undefined {
  if (c.followup?.intake) return c.followup.intake;
  const intake = c.onSupport?.input === undefined ? undefined : caseIntakeInput.safeParse(c.onSupport.input);
  return intake?.success ? intake.data : undefined;
}

/** The data of a `followupDue` event: the follow-up's id and what it checks (src/followups/). */
export const followupDueData = z.object({
  id: z.string().min(1).max(80),
  ending: followupEnding,
  /** Hours since it was accepted, as the person set it (the opening line says "yesterday" or "earlier"). */
  hours: z.number().positive(),
  intake: caseIntakeInput.optional(),
});
export type FollowupDueData = z.infer<typeof followupDueData>;

export const followupInput = followupDueData.extend({ flowInput });
export type FollowupInput = z.infer<typeof followupInput>;

/** The runtime's actors these flows invoke (src/followups/actors.ts provides them). */
export const scheduleFollowupInput = z.object({ ending: followupEnding, hours: z.number().positive(), intake: caseIntakeInput.optional(), mode: flowMode });
export type ScheduleFollowupInput = z.infer<typeof scheduleFollowupInput>;
export const rateEndingInput = z.object({ ending: endingRef, rating });
export type RateEndingInput = z.infer<typeof rateEndingInput>;
/** The rating's id, for the comment that may follow it. */
export const ratedEnding = z.object({ id: z.string() });
export type RatedEnding = z.infer<typeof ratedEnding>;
export const commentRatingInput = z.object({ id: z.string(), comment: z.string() });
export type CommentRatingInput = z.infer<typeof commentRatingInput>;
export const answerFollowupInput = z.object({ id: z.string(), answer: z.enum(['arrived', 'not_arrived']) });
export type AnswerFollowupInput = z.infer<typeof answerFollowupInput>;
