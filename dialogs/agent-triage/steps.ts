/**
 * The agent triage intake as a table: the customer details an agent enters, in the order they are
 * asked (each is typed; keys under `agent:intake.<step>.`). Its states, step list and view derive
 * from it (machine.ts, view.ts). After the last step the conversation is handed to the
 * troubleshooting flow in agent mode with the customer in its input.
 */
import type { CustomerRef } from '../flow';
import { readEmail, readOrderNumber, type FieldResult } from '../support-case/fields';

export const AGENT_TRIAGE_FLOW_ID = 'agent-triage';
/** The flow the customer's triage continues in. */
export const TRIAGE_TARGET_FLOW_ID = 'provisioning-contact';

const NAME_MAX = 120;

export function readCustomerName(text: string): FieldResult {
  const name = text.trim().replace(/\s+/g, ' ');
  if (!name || name.length > NAME_MAX || !/\p{L}/u.test(name)) return { ok: false, hint: 'agent:intake.customerName.hint' };
  return { ok: true, value: name };
}

export interface IntakeField {
  /** Reads the typed answer: the value to keep, or the hint to re-ask with. */
  read(text: string): FieldResult;
  /** Where the value goes in the customer the agent enters. */
  field: keyof CustomerRef;
  /** Options besides typing; `label` is a key under `agent:intake.<step>.`. */
  options?: Record<string, { to: 'handOff'; label: string }>;
}

export const INTAKE = {
  customerName: { read: readCustomerName, field: 'name' },
  customerEmail: { read: (text) => readEmail(text), field: 'email' },
  customerOrder: { read: readOrderNumber, field: 'orderNumber', options: { order_unknown: { to: 'handOff', label: 'unknown' } } },
} satisfies Record<string, IntakeField>;

export type IntakeStep = keyof typeof INTAKE;
