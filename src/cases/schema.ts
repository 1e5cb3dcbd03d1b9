/**
 * The case record: one zod schema for what is stored, what backends receive and what status
 * answers read. Emails live here (a case needs them) and never in logs.
 */
import { z } from 'zod';
import { deliveryStatus, REQUEST_TYPE, unknowableField } from '../../dialogs/support-case/contract';
import { attachmentRef, caseDraft, trailEntry } from '../../dialogs/support-case/case-draft';

export const CASE_BACKENDS = ['local', 'webhook', 'servicenow', 'email', 'smartbonding'] as const;
export const caseBackendName = z.enum(CASE_BACKENDS);
export type CaseBackendName = z.infer<typeof caseBackendName>;
export { deliveryStatus, type DeliveryStatus } from '../../dialogs/support-case/contract';

export const caseReference = z.string().regex(/^PCE-\d{6,}$/);

export function formatReference(n: number): string {
  return `PCE-${String(n).padStart(6, '0')}`;
}

export const transcriptLine = z.object({ at: z.string(), from: z.enum(['user', 'bot']), text: z.string() });

export const caseDelivery = z.object({
  backend: caseBackendName,
  status: deliveryStatus,
  attempts: z.number().int().nonnegative(),
  externalId: z.string().optional(),
  lastError: z.string().optional(),
  nextAttemptAt: z.string().optional(),
  deliveredAt: z.string().optional(),
});
export type CaseDelivery = z.infer<typeof caseDelivery>;

export const caseRecord = z.object({
  reference: caseReference,
  requestType: z.literal(REQUEST_TYPE),
  conversationKey: z.string(),
  /** The conversation's language; the summary for support is in English regardless. */
  locale: z.enum(['en', 'uk']),
  channel: z.string(),
  /** Who confirmed the case: the person themselves, or an agent triaging for a customer. */
  openedBy: z.object({
    kind: z.enum(['person', 'agent']),
    /** `${channel}:${userId}`: only this user (or an agent) may read the case status in chat. */
    userKey: z.string(),
    name: z.string().optional(),
    email: z.string().optional(),
  }),
  customer: caseDraft.shape.customer,
  /** Absent when the person did not know it (then named in `unknownFields`). */
  orderNumber: z.string().optional(),
  subscriptionId: z.string().optional(),
  /** Fields the person said they do not have at hand; support finds the order by what is known. */
  unknownFields: z.array(unknowableField).optional(),
  currentContactEmail: z.string(),
  newContactEmail: z.string(),
  orderLineStatus: caseDraft.shape.orderLineStatus,
  canEditInCcw: caseDraft.shape.canEditInCcw,
  ponrPassed: caseDraft.shape.ponrPassed,
  fixesTried: caseDraft.shape.fixesTried,
  attachments: z.array(attachmentRef),
  reason: caseDraft.shape.reason,
  /** Each step the person answered, in order, with the answer. */
  trail: z.array(trailEntry),
  transcript: z.array(transcriptLine),
  createdAt: z.string(),
  delivery: caseDelivery,
});
export type CaseRecord = z.infer<typeof caseRecord>;

/** What a backend receives: the record plus the English summary written for Cisco support. */
export interface CasePayload {
  case: CaseRecord;
  summary: string;
}
