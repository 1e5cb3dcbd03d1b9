/**
 * What the flow has collected when it hands a conversation to support (N9). The flow fills it as it
 * goes; the runtime's `openCase` actor turns it into a stored case record (src/cases/).
 */
import { z } from 'zod';

export const orderLineStatus = z.enum(['awaiting', 'closed', 'unknown']);
export const yesNoUnknown = z.enum(['yes', 'no', 'unknown']);

export const attachmentRef = z.object({
  name: z.string(),
  contentType: z.string(),
  size: z.number().int().nonnegative().optional(),
  url: z.string(),
});

/** One answered step: the decision trail a support engineer reads first. */
export const trailEntry = z.object({
  step: z.string(),
  choice: z.string().optional(),
  text: z.string().optional(),
});

export const caseDraft = z.object({
  requestType: z.literal('Change Provisioning Contact Email'),
  locale: z.enum(['en', 'uk']),
  channel: z.string(),
  mode: z.enum(['self', 'agent']),
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
 * What the troubleshooting flow's `needsCase` state hands to the support-case intake
 * (`FlowOutput.next.input`): the runtime's input for this conversation and all that is known so far.
 */
export const caseIntakeInput = z.object({
  flowInput: z.object({
    locale: z.enum(['en', 'uk']),
    channel: z.string(),
    user: z.object({ id: z.string(), name: z.string().optional(), email: z.string().optional() }),
    mode: z.enum(['self', 'agent']),
    startedAt: z.string(),
    customer: z.object({ name: z.string().optional(), email: z.string().optional(), orderNumber: z.string().optional() }).optional(),
  }),
  draft: caseDraft.partial(),
});
export type CaseIntakeInput = z.infer<typeof caseIntakeInput>;

/** What `openCase` answers with; the flow shows the reference to the person. */
export const openedCase = z.object({ reference: z.string() });
export type OpenedCase = z.infer<typeof openedCase>;
