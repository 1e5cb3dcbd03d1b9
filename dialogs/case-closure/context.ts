/** What the case-closure flow remembers (its machine context, stored with every snapshot). */
import type { CaseClosureInput } from './steps';

export interface CaseClosureContext {
  input: CaseClosureInput;
  mode: 'self' | 'agent';
  /** The last message answered nothing here: the question is asked again with its options. */
  missed?: true;
}
