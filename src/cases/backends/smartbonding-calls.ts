/**
 * The Smart Bonding `Calls` messages we send and read, and how they map to our case and updates.
 * Sources, and where they are silent:
 * - Create: developer.cisco.com/docs/smart-bonding-partner-api/self-onboarding-guidance ("Create
 *   transaction", POST v1/push/call, the "Create Shadow Case" example): `Calls` with `CustCallID`,
 *   `ShortDescription`, `Description`, `Remarks`, the contact block `CCP` (`FirstName`, `LastName`,
 *   `Tel`, `EMail`), the component block `MainComp` (`SerNrProv`, `InvNr`), and beside `Calls` the
 *   `CallStates` / `Priorities` blocks, each with a `ShortName`.
 * - Entitlement: .../smart-bonding-partner-api/use-cases lists "Subscription ID" among the
 *   entitlement information of a partner case, but the pages name no field for it, nor for an
 *   order number. Safe reading: the subscription id goes in `MainComp.InvNr` (the example's
 *   entitlement number of the component) and both, always, in `ShortDescription` and
 *   `Description`, where an engineer reads them whatever the connection maps.
 * - Ownership: the use-cases page says a partner case is a "Shadow" case unless sent as "B2B
 *   Escalated" to hand ownership to Cisco. The bot hands the case to Cisco TAC, so it is escalated;
 *   the docs show no value list, so `Priorities.ShortName` is `Escalated` as partner integrations send it.
 * - Update (an addition from the chat): the use-cases page names "Case Update (Partner to Cisco
 *   TAC)" without a message example; the safe reading is the create message's own shape cut to
 *   `CustCallID` and `Remarks`, with `CallStates.ShortName` `Update`.
 * - Attachments: the partner use cases list no attachment flow (the customer API's "Attachment to
 *   Case" is not among them), so files go as their links: in `Description` (the summary lists
 *   them) and, for an addition, in its `Remarks`.
 * - Pull (GET v1/pull/call, same onboarding page, "Pull Information from Cisco"): the pages show
 *   no answer example. Read here as one message per GET, a `Calls` object with `CustCallID`
 *   (ours), `SPCallID` (the Cisco case number), `Remarks` (the engineer's notes), `Solution`, and
 *   a `CallStates.ShortName` beside `Calls` or inside it; an answer without `Calls` (e.g.
 *   `{ "message": "No messages available to Send" }`) or an empty body means nothing is waiting.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CaseUpdateStatus } from '../updates-repository';
import { additionNote } from './addition-note';
import type { CaseAddition, PulledItem } from './types';
import type { CasePayload, CaseRecord } from '../schema';

/** The longest note we keep of one message (the events endpoint's limit too). */
export const MAX_NOTE_CHARS = 4000;

const shortName = z.looseObject({ ShortName: z.string() });
const id = z.union([z.string(), z.number()]).transform(String);
export const pulledCall = z.looseObject({
  Calls: z.looseObject({
    CustCallID: z.string().trim().min(1),
    SDCallID: id.optional(),
    SPCallID: id.optional(),
    Remarks: z.unknown().optional(),
    Solution: z.unknown().optional(),
    CallStates: shortName.optional(),
  }),
  CallStates: shortName.optional(),
});

function contact(c: CaseRecord): Record<string, string> {
  const words = (c.openedBy.name ?? '').trim().split(/\s+/).filter(Boolean);
  const last = words.length > 1 ? words.slice(1).join(' ') : (words[0] ?? c.openedBy.email ?? c.openedBy.userKey);
  return {
    ...(words.length > 1 ? { FirstName: words[0]! } : {}),
    LastName: last,
    ...(c.openedBy.email ? { EMail: c.openedBy.email } : {}),
  };
}

function trail(c: CaseRecord): string {
  const steps = c.trail.map((e, i) => `${i + 1}. ${e.step}: ${[e.choice, e.text !== undefined ? `"${e.text}"` : undefined].filter(Boolean).join(' ')}`);
  return ['Decision trail:', ...steps].join('\n');
}

/** The create message for one case. */
export function createCallMessage(payload: CasePayload): Record<string, unknown> {
  const c = payload.case;
  const title = `${c.requestType}: order ${c.orderNumber ?? 'not known'}, subscription ${c.subscriptionId ?? 'not known'} (${c.reference})`;
  return {
    Calls: {
      CustCallID: c.reference,
      ShortDescription: title,
      Description: payload.summary,
      Remarks: trail(c),
      CCP: contact(c),
      ...(c.subscriptionId ? { MainComp: { InvNr: c.subscriptionId } } : {}),
    },
    CallStates: { ShortName: 'New' },
    Priorities: { ShortName: 'Escalated' },
  };
}

/** The update message carrying what the person added in the chat. */
export function additionMessage(addition: CaseAddition): Record<string, unknown> {
  return { Calls: { CustCallID: addition.reference, Remarks: additionNote(addition) }, CallStates: { ShortName: 'Update' } };
}

const STATES: Record<string, CaseUpdateStatus> = {
  new: 'open',
  open: 'open',
  opened: 'open',
  accepted: 'open',
  acknowledged: 'open',
  queued: 'open',
  update: 'in_progress',
  updated: 'in_progress',
  assigned: 'in_progress',
  inprogress: 'in_progress',
  workinprogress: 'in_progress',
  escalated: 'in_progress',
  waitingforcustomer: 'waiting_for_customer',
  awaitingcustomer: 'waiting_for_customer',
  awaitingcustomerinfo: 'waiting_for_customer',
  awaitinginfo: 'waiting_for_customer',
  pendingcustomer: 'waiting_for_customer',
  customerpending: 'waiting_for_customer',
  customeractionrequired: 'waiting_for_customer',
  resolved: 'resolved',
  solved: 'resolved',
  solutionprovided: 'resolved',
  closed: 'closed',
  cancelled: 'closed',
  canceled: 'closed',
};

/**
 * Our status for a `CallStates.ShortName`. The docs list no values; names not known here are told
 * as "in progress" (the least a note can mean), so an engineer's note is never dropped.
 */
export function statusOf(name: string | undefined): CaseUpdateStatus {
  return STATES[(name ?? '').toLowerCase().replace(/[^a-z]/g, '')] ?? 'in_progress';
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** Keys sorted, so the same message read twice hashes the same however it was serialised. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** What one pull answer says: nothing waiting, one update, or a message skipped (with why, no values). */
export function readPullAnswer(json: unknown): PulledItem | 'empty' {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { kind: 'skipped', reason: 'the pull answer is not a JSON object' };
  if (!('Calls' in json)) return 'empty';
  const parsed = pulledCall.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(answer)'))];
    return { kind: 'skipped', reason: `the pull answer is not a Calls message (check ${fields.join(', ')})` };
  }
  const call = parsed.data.Calls;
  const state = parsed.data.CallStates?.ShortName ?? call.CallStates?.ShortName;
  // Smart Bonding refusing one of our own messages is for the operator, not news for the person.
  if (state?.trim().toLowerCase() === 'rejected') return { kind: 'skipped', reason: `Smart Bonding rejected a message we sent for ${call.CustCallID}` };
  const note = [text(call.Remarks), text(call.Solution)].filter(Boolean).join('\n\n');
  const hash = createHash('sha256').update(canonical(parsed.data)).digest('hex').slice(0, 40);
  return {
    kind: 'update',
    update: {
      eventId: `sb-${hash}`,
      reference: call.CustCallID,
      status: statusOf(state),
      ...(call.SPCallID ? { ticketId: call.SPCallID } : {}),
      ...(note ? { message: note.length > MAX_NOTE_CHARS ? `${note.slice(0, MAX_NOTE_CHARS - 1)}…` : note } : {}),
    },
  };
}
