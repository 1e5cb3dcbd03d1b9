/**
 * The support-case intake as a FlowDefinition (id `support-case`): the troubleshooting flow hands
 * over to it with `{ flowInput, draft }`; it speaks in keys of the `support-case` namespace.
 */
import type { FlowDefinition } from '../flow';
import { SUPPORT_CASE_FLOW_ID } from './contract';
import { supportCaseMachine } from './machine';
import { supportCaseView } from './view';

export * from './contract';
export { readEmail, readOrderNumber, readSubscriptionId, ORDER_DIGITS } from './fields';
export { supportCaseMachine, type SupportCaseContext } from './machine';
export { DONT_KNOW } from './steps';

/**
 * The reference of the case a stored intake is answering about (it was opened there and the
 * conversation is still at it), so "status of PCE-…" is left to the intake's own short answer.
 */
export function caseAnsweredBy(flowId: string, snapshot: unknown): string | undefined {
  if (flowId !== SUPPORT_CASE_FLOW_ID) return undefined;
  const s = snapshot as { value?: unknown; context?: { opened?: { reference?: unknown } } } | null | undefined;
  if (s?.value !== 'opened' && s?.value !== 'followUp') return undefined;
  const reference = s.context?.opened?.reference;
  return typeof reference === 'string' ? reference : undefined;
}

export const supportCaseFlow: FlowDefinition<typeof supportCaseMachine> = {
  id: SUPPORT_CASE_FLOW_ID,
  version: 1,
  machine: supportCaseMachine,
  view: supportCaseView,
};
