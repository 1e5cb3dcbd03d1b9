/**
 * Reads what the follow-ups and satisfaction part of the report needs (./satisfaction-report.ts):
 * ratings given in the window (table `satisfaction`: no personal data), follow-ups accepted in it
 * (their status and answer only), and the follow-ups' confirmations from funnel events. The endings
 * they are a share of are the funnel's: the runs it counts as solved without a case (`deflected`).
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { FollowupsDatabase } from '../followups/repository';
import type { SatisfactionDatabase } from '../followups/satisfaction-repository';
import { indexedFunnelKind, type Database } from '../storage/schema';
import { buildSatisfactionReport, type SatisfactionReport } from './satisfaction-report';

const ratingRow = z.object({ ending: z.string(), locale: z.string(), channel: z.string(), mode: z.string(), rating: z.enum(['up', 'down']), comment: z.string().nullable() });
const followupRow = z.object({ status: z.string(), answer: z.string().nullable() });

/** `deflected`: the funnel's endings solved without a case in the window (./report.ts), which follow-ups confirm. */
export async function loadSatisfactionReport(db: Kysely<Database>, window: { from: Date; to: Date }, deflected: number): Promise<SatisfactionReport> {
  const from = window.from.toISOString();
  const to = window.to.toISOString();
  const sdb = db.withTables<SatisfactionDatabase & FollowupsDatabase>();
  const [ratings, followups, outcomes] = await Promise.all([
    sdb.selectFrom('satisfaction').select(['ending', 'locale', 'channel', 'mode', 'rating', 'comment']).where('at', '>=', from).where('at', '<', to).execute(),
    sdb.selectFrom('followups').select(['status', 'answer']).where('created_at', '>=', from).where('created_at', '<', to).execute(),
    db
      .selectFrom('funnel_events')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('kind', '=', indexedFunnelKind('outcome'))
      .where('value', '=', 'confirmed_by_followup')
      .where('at', '>=', from)
      .where('at', '<', to)
      .executeTakeFirstOrThrow(),
  ]);
  return buildSatisfactionReport(
    ratings.map((r) => {
      const row = ratingRow.parse(r);
      return { ending: row.ending, locale: row.locale, channel: row.channel, mode: row.mode, rating: row.rating, commented: row.comment !== null };
    }),
    followups.map((f) => followupRow.parse(f)),
    { reached: deflected, confirmedByFollowup: Number(outcomes.n) },
  );
}
