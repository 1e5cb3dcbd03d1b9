/**
 * Reads funnel events for the report from the store's database (SQLite or PostgreSQL, one Kysely
 * query). Rows are validated at this edge: the report trusts what it gets.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { indexedFunnelKind, toIso, type Database } from '../storage/schema';
import type { FunnelEvent } from '../storage/store';

const funnelRow = z.object({
  at: z.union([z.date(), z.string()]).transform(toIso),
  conversation_key: z.string(),
  channel: z.string(),
  locale: z.enum(['en', 'uk']),
  mode: z.enum(['self', 'agent']),
  kind: z.enum(['started', 'step_entered', 'answer', 'outcome', 'turn']),
  step: z.string(),
  value: z.string().nullable(),
});

/**
 * Every event, in recorded order, of the conversations that started a run in [from, to), from
 * `from` on (later runs of those conversations too: the report keeps only runs begun in the window).
 *
 * Read by time, not by conversation: the events from `from` on come through `funnel_events_at` and
 * those of conversations without a `started` event in the window (found through
 * `funnel_events_run_edges`) are dropped. There is deliberately no index on `conversation_key`: every
 * turn would pay for it (rows land at random places in it), and this offline report is its only
 * reader. The cost: a window in the past reads every event since its start.
 */
export async function loadFunnelEvents(db: Kysely<Database>, window: { from: Date; to: Date }): Promise<FunnelEvent[]> {
  const from = window.from.toISOString();
  const to = window.to.toISOString();
  const startedInWindow = db
    .selectFrom('funnel_events')
    .select('conversation_key')
    .where('kind', '=', indexedFunnelKind('started'))
    .where('at', '>=', from)
    .where('at', '<', to);
  const rows = await db
    .selectFrom('funnel_events')
    .select(['at', 'conversation_key', 'channel', 'locale', 'mode', 'kind', 'step', 'value'])
    .where('conversation_key', 'in', startedInWindow)
    .where('at', '>=', from)
    .orderBy('conversation_key')
    .orderBy('id')
    .execute();
  return rows.map((row) => {
    const r = funnelRow.parse(row);
    return {
      at: r.at,
      conversationKey: r.conversation_key,
      channel: r.channel,
      locale: r.locale,
      mode: r.mode,
      kind: r.kind,
      step: r.step,
      ...(r.value === null ? {} : { value: r.value }),
    };
  });
}
