/**
 * What the intake flow receives from the flow that hands over to it, and what the runtime's actors
 * (`openCase`, `caseStatus`) answer. The runtime implements the actors in src/cases/.
 */
import { z } from 'zod';
import { caseDraft, openedCase, type CaseIntakeInput } from './case-draft';

export const SUPPORT_CASE_FLOW_ID = 'support-case';
export const REQUEST_TYPE = 'Change Provisioning Contact Email' as const;
/** The article's manual path: Support Case Manager. */
export const SUPPORT_PORTAL_URL = 'https://www.cisco.com/go/cs';

/** The fields a person may not have at hand: the case records them as not known. */
export const UNKNOWABLE_FIELDS = ['orderNumber', 'subscriptionId'] as const;
export const unknowableField = z.enum(UNKNOWABLE_FIELDS);
export type UnknowableField = z.infer<typeof unknowableField>;

/** What the intake collects: the hand-over's draft plus the fields the person said they do not know. */
export const intakeDraft = caseDraft.extend({ unknownFields: z.array(unknowableField).optional() });
export type IntakeDraft = z.infer<typeof intakeDraft>;

/** `FlowOutput.next.input` of a hand-off to the intake. */
export type SupportCaseInput = CaseIntakeInput;

export const openCaseInput = z.object({ draft: intakeDraft });
export type OpenCaseInput = z.infer<typeof openCaseInput>;

/**
 * `queued`: a backend will receive it (the external ticket id follows); `manual`: no backend is
 * configured, the person opens it in Support Case Manager with the English `summary` to paste.
 */
export const openCaseOutput = openedCase.extend({
  delivery: z.enum(['queued', 'manual']),
  summary: z.string().optional(),
});
export type OpenCaseOutput = z.infer<typeof openCaseOutput>;

export const deliveryStatus = z.enum(['pending', 'delivered', 'failed', 'manual']);
export type DeliveryStatus = z.infer<typeof deliveryStatus>;

export const caseStatusInput = z.object({ reference: z.string() });
export type CaseStatusInput = z.infer<typeof caseStatusInput>;

export const caseStatusOutput = z.object({
  reference: z.string(),
  status: deliveryStatus,
  externalId: z.string().optional(),
  /** Pending after an unsuccessful attempt: the support system is away, the case waits for it. */
  retrying: z.boolean().optional(),
});
export type CaseStatusOutput = z.infer<typeof caseStatusOutput>;
