/**
 * What the troubleshooting flow has collected when it hands a conversation to support (N9): the
 * draft of a case. The intake completes it; the runtime's `openCase` actor turns it into a stored
 * case record (src/cases/).
 */
import { z } from 'zod';
import { attachmentRef, flowInput, flowMode, locale } from '../flow';

// The case record (src/cases/schema.ts) is built from these schemas too.
export { attachmentRef };

export const orderLineStatus = z.enum(['awaiting', 'closed', 'unknown']);
export const yesNoUnknown = z.enum(['yes', 'no', 'unknown']);

/** One answered step: the decision trail a support engineer reads first. */
export const trailEntry = z.object({
  step: z.string(),
  choice: z.string().optional(),
  text: z.string().optional(),
});

export const caseDraft = z.object({
  requestType: z.literal('Change Provisioning Contact Email'),
  locale,
  channel: z.string(),
  mode: flowMode,
  requester: z.object({ id: z.string(), name: z.string().optional(), email: z.string().optional() }),
  /** In agent mode: the customer the agent is triaging for. */
  customer: z.object({ name: z.string().optional(), email: z.string().optional() }).optional(),
  orderNumber: z.string().optional(),
  subscriptionId: z.string().optional(),
  currentContactEmail: z.string().optional(),
  newContactEmail: z.string().optional(),
  orderLineStatus: orderLineStatus.optional(),
  canEditInCcw: yesNoUnknown.optional(),
  ponrPassed: yesNoUnknown.optional(),
  fixesTried: z.array(z.enum(['spam_check', 'edit_steps', 'cache_cookies', 'other_browser', 'incognito', 'resend'])),
  attachments: z.array(attachmentRef),
  trail: z.array(trailEntry),
  /**
   * Why the flow handed over: the fixes failed, the person asked, the bot did not understand, the
   * update did not show, or the order line's status was not found (or is one the article does not cover).
   */
  reason: z.enum(['fixes_failed', 'requested', 'not_understood', 'verification_failed', 'status_unknown']),
});
export type CaseDraft = z.infer<typeof caseDraft>;
export type TrailEntry = z.infer<typeof trailEntry>;
export type CaseReason = CaseDraft['reason'];
export type FixTried = CaseDraft['fixesTried'][number];

/**
 * What a flow hands to the support-case intake (`FlowOutput.next.input`, or `onSupport.input`): the
 * runtime's input for this conversation and all that is known so far.
 */
export const caseIntakeInput = z.object({ flowInput, draft: caseDraft.partial() });
export type CaseIntakeInput = z.infer<typeof caseIntakeInput>;

/** What `openCase` answers with; the flow shows the reference to the person. */
export const openedCase = z.object({ reference: z.string() });
export type OpenedCase = z.infer<typeof openedCase>;
