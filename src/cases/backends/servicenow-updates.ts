/**
 * ServiceNow both ways after delivery (issue 21), through the same Table API and integration user:
 * - Updates are polled: the records of delivered, not closed cases (by `correlation_id`), their
 *   `state` mapped to our statuses, and the "Additional comments" meant for the customer, read from
 *   the Journal Entries table (`sys_journal_field`, `element=comments`: journal fields keep their
 *   entries there, not on the record). Work notes (`element=work_notes`) are internal and never
 *   read; comments the integration user wrote (the person's own additions) are not told back.
 *   Each comment's event id is its journal sys_id; a state change's id is chained on the last
 *   update stored for the case, so two instances reading the same change store it once, and a
 *   case that goes back and forth is told each time.
 * - Additions go as a customer-visible comment (PATCH of the record's `comments`), after a look in
 *   the journal for a comment carrying the addition's id, so a repeat after a lost answer adds none.
 * The integration user needs read access to `sys_journal_field` as well as the case table.
 */
import { z } from 'zod';
import type { CaseUpdateStatus } from '../updates-repository';
import { additionNote } from './addition-note';
import { DeliveryError, type CaseAddition, type OpenCase, type PullContext, type PulledItem, type PulledUpdate } from './types';

/** What the backend and its updates share: authenticated Table API calls and the look-up by correlation_id. */
export interface ServiceNowClient {
  /** `{instance}/api/now/table/{table}`. */
  tableUrl(table: string): string;
  call(url: string, init: RequestInit): Promise<unknown>;
  lookUp(reference: string): Promise<{ sys_id: string; number?: string } | undefined>;
}

export interface ServiceNowUpdatesOptions {
  table: string;
  /** The integration user: comments it wrote are the person's own additions. */
  username: string;
  correlationDisplay: string;
}

/** Records asked for in one request (the query names each correlation id). */
const CHUNK = 50;

const value = z.union([z.string(), z.number()]).transform(String);
const records = z.object({
  result: z.array(
    z.looseObject({
      sys_id: z.string(),
      number: z.string().optional(),
      state: value,
      hold_reason: value.optional(),
      close_notes: z.string().optional(),
      correlation_id: z.string(),
    }),
  ),
});
const journal = z.object({ result: z.array(z.looseObject({ sys_id: z.string(), element_id: z.string(), value: z.string() })) });

/**
 * The out-of-box choice values of `state`: Customer Service cases (New 1, Open 10, Awaiting Info
 * 18, Resolved 6, Closed 3, Cancelled 7) and incidents and other tasks (New 1, In Progress 2, On
 * Hold 3 (hold reason 1 "Awaiting Caller"), Resolved 6, Closed 7, Canceled 8). A value an instance
 * added itself maps to nothing: no state update, comments still come.
 */
function statusOf(table: string, state: string, holdReason: string | undefined): CaseUpdateStatus | undefined {
  if (table === 'sn_customerservice_case') {
    return ({ '1': 'open', '10': 'in_progress', '18': 'waiting_for_customer', '6': 'resolved', '3': 'closed', '7': 'closed' } as const)[state];
  }
  if (state === '3') return holdReason === '1' ? 'waiting_for_customer' : 'in_progress';
  return ({ '1': 'open', '2': 'in_progress', '6': 'resolved', '7': 'closed', '8': 'closed' } as const)[state];
}

const failure = (what: string, err: z.ZodError): PulledItem => ({
  kind: 'skipped',
  reason: `ServiceNow's ${what} answered in an unexpected shape (check ${[...new Set(err.issues.map((i) => i.path.join('.') || '(answer)'))].join(', ')})`,
});

export function serviceNowUpdates(client: ServiceNowClient, opts: ServiceNowUpdatesOptions) {
  const base = client.tableUrl(opts.table);
  const journalUrl = client.tableUrl('sys_journal_field');
  const get = (url: string, params: Record<string, string>) => client.call(`${url}?${new URLSearchParams(params)}`, { method: 'GET' });

  /** The updates one record has for us: its new comments, or else a change of state. */
  function updatesOf(c: OpenCase, record: z.infer<typeof records>['result'][number], comments: z.infer<typeof journal>['result']): PulledUpdate[] {
    const status = statusOf(opts.table, record.state, record.hold_reason);
    const ticketId = record.number ?? c.externalId;
    const seen = new Set(c.seen);
    const fresh = comments.filter((j) => j.element_id === record.sys_id && !seen.has(`sn-comment-${j.sys_id}`) && j.value.trim());
    if (fresh.length) {
      const current = status ?? c.latest?.status ?? 'in_progress';
      return fresh.map((j) => ({ eventId: `sn-comment-${j.sys_id}`, reference: c.reference, status: current, ticketId, message: j.value.trim() }));
    }
    if (!status || status === c.latest?.status) return [];
    // A new record's "New" is what delivery already told.
    if (!c.latest && status === 'open') return [];
    const note = status === 'resolved' || status === 'closed' ? record.close_notes?.trim() : undefined;
    return [{ eventId: `sn-state-${record.sys_id}-${record.state}-after-${c.latest?.eventId ?? 'delivery'}`, reference: c.reference, status, ticketId, ...(note ? { message: note } : {}) }];
  }

  return {
    async *pullUpdates(ctx: PullContext): AsyncIterable<PulledItem> {
      const open = await ctx.openCases();
      for (let i = 0; i < open.length; i += CHUNK) {
        const chunk = open.slice(i, i + CHUNK);
        const found = records.safeParse(
          await get(base, {
            sysparm_query: `correlation_display=${opts.correlationDisplay}^correlation_idIN${chunk.map((c) => c.reference).join(',')}`,
            sysparm_fields: 'sys_id,number,state,hold_reason,close_notes,correlation_id',
            sysparm_limit: String(chunk.length),
          }),
        );
        if (!found.success) {
          yield failure('case records', found.error);
          continue;
        }
        if (!found.data.result.length) continue;
        const entries = journal.safeParse(
          await get(journalUrl, {
            sysparm_query: `element=comments^element_idIN${found.data.result.map((r) => r.sys_id).join(',')}^sys_created_by!=${opts.username}^ORDERBYsys_created_on`,
            sysparm_fields: 'sys_id,element_id,value,sys_created_on',
            sysparm_limit: '1000',
          }),
        );
        if (!entries.success) {
          yield failure('journal (comments)', entries.error);
          continue;
        }
        for (const record of found.data.result) {
          const c = chunk.find((x) => x.reference === record.correlation_id);
          if (!c) continue;
          for (const update of updatesOf(c, record, entries.data.result)) yield { kind: 'update', update };
        }
      }
    },

    async addToCase(addition: CaseAddition): Promise<void> {
      const record = await client.lookUp(addition.reference);
      if (!record) throw new DeliveryError(`ServiceNow has no record for ${addition.reference} any more: the addition cannot be added`, true);
      const already = journal.safeParse(
        await get(journalUrl, {
          sysparm_query: `element_id=${record.sys_id}^element=comments^valueLIKE${addition.additionId}`,
          sysparm_fields: 'sys_id,element_id,value',
          sysparm_limit: '1',
        }),
      );
      if (!already.success) throw new DeliveryError('ServiceNow answered the journal look-up in an unexpected shape: not adding, so no comment is added twice', false);
      if (already.data.result.length) return;
      await client.call(`${base}/${encodeURIComponent(record.sys_id)}?sysparm_fields=sys_id`, { method: 'PATCH', body: JSON.stringify({ comments: additionNote(addition) }) });
    },
  };
}
