/**
 * The follow-up flow as a table (issue 23): the bot comes back when the delay the person accepted
 * has passed and asks whether the provisioning email arrived. Yes closes the loop (`confirmed_by_followup`).
 * No goes where it helps: the change in Transaction Manager, then Spam (Junk) and the allow-list,
 * then a case with everything the guide knew (the support-case intake). After finishing the set-up in
 * Control Hub there is no email to look for: a no goes to a case at once.
 */
import type { OutcomeKind } from '../flow';
import type { CaseReason } from '../support-case/case-draft';
import type { FollowupEnding } from './contract';

/** Questions, in order: per option, where it leads (choice ids share the guide's yes/no synonyms). */
export const QUESTIONS = {
  followupAsk: { options: { found: 'followupArrived', not_found: 'followupNotArrived' } },
  followupVerify: { options: { updated: 'followupSpam', not_updated: 'followupCase' } },
  followupSpam: { options: { found: 'followupFound', not_found: 'followupCase' } },
} as const;
export type QuestionStep = keyof typeof QUESTIONS;

/** Endings: what each counts as in the funnel. A case hands over to the intake instead. */
export const ENDINGS = {
  followupConfirmed: { outcome: 'confirmed_by_followup' },
  followupFound: { outcome: 'confirmed_by_followup' },
  followupCase: { outcome: 'needs_case' },
} as const satisfies Record<string, { outcome: OutcomeKind }>;
export type FinalStep = keyof typeof ENDINGS;

/** Where a "no" to the first question leads, by the ending the follow-up checks. */
export const AFTER_NO: Record<FollowupEnding, QuestionStep | FinalStep> = {
  changeConfirmed: 'followupVerify',
  forwardToOwner: 'followupVerify',
  adminPortal: 'followupCase',
};

/** Why the case is opened, by the question answered last. */
export const CASE_REASON: Record<QuestionStep, CaseReason> = {
  followupAsk: 'requested',
  followupVerify: 'verification_failed',
  followupSpam: 'requested',
};

/** Every step a person can see in this flow and the after-ending flow (the funnel keeps them apart from the guide's runs). */
export const FOLLOWUP_STEPS: readonly string[] = [
  ...Object.keys(QUESTIONS),
  ...Object.keys(ENDINGS),
  'followupArrived',
  'followupNotArrived',
  'followupCancelled',
  'afterStart',
  'afterScheduling',
  'afterRatingUp',
  'afterRatingDown',
  'afterComment',
  'afterCommenting',
  'afterThanked',
  'afterCheckBackSet',
  'afterCheckBackFailed',
  'afterToSupport',
];
