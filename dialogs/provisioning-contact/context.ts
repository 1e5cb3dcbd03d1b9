/**
 * What the provisioning-contact flow remembers (its machine context, stored with every snapshot:
 * field names are part of the stored format) and what it hands to the support-case intake.
 */
import type { FlowInput, FlowOutput } from '../flow';
import type { CaseIntakeInput, CaseReason, TrailEntry } from '../support-case/case-draft';
import { HANDOFF_FLOW_ID, type HandoffInput } from '../handoff/steps';
import type { Answers } from './answers';

/** `Step`: the flow's question steps (./steps.ts `QuestionStep`); the table's own functions need no more than `string`. */
export interface ProvisioningContactContext<Step extends string = string> {
  input: FlowInput;
  mode: 'self' | 'agent';
  /** The question step the person is on (set on entry), for the trail and the re-prompt. */
  step: Step;
  trail: TrailEntry[];
  answers: Answers;
  /** Unrecognised answers in a row at the current step. */
  misses: number;
  /** A one-turn remark for the view: BACK had nothing to undo. */
  notice?: 'nothingToUndo';
  /**
   * The person went back (BACK, a jump) in this run: the first question is asked again without the
   * greeting. Only start over (a new context) greets again.
   */
  returned?: true;
  caseReason?: CaseReason;
  /**
   * Set on reaching N9 when the runtime has engineers who take hand-offs (`offeringAPerson` in
   * machine.ts): the ending offers a person beside a case instead of going to the case intake at once.
   */
  personOffered?: true;
}

export function caseIntakeFrom(context: ProvisioningContactContext): CaseIntakeInput {
  const { input, answers, trail } = context;
  return {
    flowInput: input,
    draft: {
      requestType: 'Change Provisioning Contact Email',
      locale: input.locale,
      channel: input.channel,
      mode: context.mode,
      requester: { ...input.user },
      // Agent triage: the customer the agent entered; the order number needs no second asking.
      ...(context.mode === 'agent' && input.customer ? { customer: { name: input.customer.name, email: input.customer.email } } : {}),
      ...(input.customer?.orderNumber ? { orderNumber: input.customer.orderNumber } : {}),
      ...(answers.orderLineStatus ? { orderLineStatus: answers.orderLineStatus } : {}),
      ...(answers.canEditInCcw ? { canEditInCcw: answers.canEditInCcw } : {}),
      ...(answers.ponrPassed ? { ponrPassed: answers.ponrPassed } : {}),
      fixesTried: [...answers.fixesTried],
      attachments: [],
      trail: trail.map((e) => ({ ...e })),
      reason: context.caseReason ?? 'requested',
    },
  };
}

/**
 * Every ending keeps the case hand-off on offer: "talk to support" after it (the engine takes the
 * offered hand-off) reaches the intake with everything known instead of a fresh start.
 */
export function caseOffer(context: ProvisioningContactContext): Pick<FlowOutput, 'onSupport'> {
  return { onSupport: { flow: 'support-case', input: caseIntakeFrom(context) } };
}

/**
 * N9 with hand-offs configured: the hand-off flow asks the runtime whether engineers are there now,
 * offers one of them beside a case (or says when they are back), and keeps the draft for the case.
 */
export function personOffer(context: ProvisioningContactContext): Pick<FlowOutput, 'next'> {
  const input: HandoffInput = { flowInput: context.input, stage: 'offer', handoff: {}, draft: caseIntakeFrom(context).draft };
  return { next: { flow: HANDOFF_FLOW_ID, input } };
}

/** N9: the intake takes the conversation over at once with everything known so far. */
export function caseHandOff(context: ProvisioningContactContext): Pick<FlowOutput, 'next'> {
  return { next: { flow: 'support-case', input: caseIntakeFrom(context) } };
}
