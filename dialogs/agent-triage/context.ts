/** What agent triage remembers (its machine context, stored with every snapshot: field names are part of the stored format). */
import type { CustomerRef, FlowInput } from '../flow';

export interface AgentTriageContext {
  input: FlowInput;
  mode: 'agent';
  customer: CustomerRef;
  /** i18n key of the hint for the last unacceptable answer. */
  hint?: string;
  /** The agent went back to an earlier field: the first one is asked again without the intro. */
  returned?: true;
}
