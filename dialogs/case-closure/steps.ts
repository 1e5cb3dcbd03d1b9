/**
 * The case-closure flow as a table (issue 21): support reported the person's case resolved or
 * closed, and the bot asks, on its own, whether the problem is solved. Yes closes the loop; no offers
 * to have the case reopened or to open a new one with what is known. The input is what the runtime
 * knows of the case when it starts the flow (src/cases/update-notices.ts); its states, step list and
 * view derive from the tables here (machine.ts, view.ts).
 */
import { z } from 'zod';
import { flowInput, type OutcomeKind } from '../flow';
import { caseDraft } from '../support-case/case-draft';

export const CASE_CLOSURE_FLOW_ID = 'case-closure';
/** The event that starts the flow (src/engine/proactive.ts). */
export const CASE_CLOSED_EVENT = 'caseClosed';

/** The case as support left it: the engineer's note and ticket id are shown as written. */
export const closedCase = z.object({
  reference: z.string().min(1).max(40),
  status: z.enum(['resolved', 'closed']),
  ticketId: z.string().max(200).optional(),
  note: z.string().max(4000).optional(),
});
export type ClosedCase = z.infer<typeof closedCase>;

/** What the runtime starts the flow with: the event's data plus the conversation's flow input. */
export const caseClosureInput = z.object({
  flowInput,
  case: closedCase,
  /** What the closed case knew, for a new case if the problem is not solved. */
  draft: caseDraft.partial(),
});
export type CaseClosureInput = z.infer<typeof caseClosureInput>;

/** The event's data (`caseClosureInput` without the flow input, which the engine adds). */
export const caseClosedData = caseClosureInput.omit({ flowInput: true });
export type CaseClosedData = z.infer<typeof caseClosedData>;

/** Questions, in order, with their options (choice ids: `worked`/`failed` share the guide's yes/no synonyms). */
export const QUESTIONS = {
  closureAsk: { options: { worked: { to: 'closureSolved' }, failed: { to: 'closureOffer' } } },
  closureOffer: { options: { reopen: { to: 'closureReopening' }, new_case: { to: 'closureNewCase' } } },
} as const;
export type QuestionStep = keyof typeof QUESTIONS;

/** Endings: what each one counts as in the funnel. A new case hands over to the intake instead. */
export const ENDINGS = {
  closureSolved: { outcome: 'resolved_by_support' },
  closureReopen: { outcome: 'reopen_requested' },
  /** The backend takes no additions (or the case never reached it): the person asks support themselves. */
  closureReopenYourself: { outcome: 'reopen_requested' },
  closureNewCase: { outcome: 'needs_case' },
} as const satisfies Record<string, { outcome: OutcomeKind }>;
export type FinalStep = keyof typeof ENDINGS;

/** Every step a person can see in this flow (the funnel report keeps them apart from the guide's runs). */
export const CASE_CLOSURE_STEPS: readonly string[] = [...Object.keys(QUESTIONS), 'closureReopening', ...Object.keys(ENDINGS), 'cancelled'];

/** The runtime's `requestReopen` actor: the reopen request goes to the support system as an addition to the case. */
export const reopenRequestInput = z.object({ reference: z.string().min(1).max(40) });
export type ReopenRequestInput = z.infer<typeof reopenRequestInput>;
/** `sent`: stored for the support system; otherwise the person is told how to ask support themselves. */
export interface ReopenRequestOutput {
  sent: boolean;
}
