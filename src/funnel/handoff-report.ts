/**
 * The "Talk to a person" part of the funnel report (issue 22): hand-offs requested in the window,
 * how many an engineer took and the median wait until then, how many nobody took in time or the
 * person withdrew, and how many chats the person then called solved. Counts only: no names, no
 * messages. `buildHandoffReport` is pure; `loadHandoffReport` reads the hand-offs (`handoffStats`, as /metrics) and the funnel.
 */
import type { Kysely } from 'kysely';
import { handoffStats, type HandoffStats } from '../handoff/repository';
import { indexedFunnelKind, type Database } from '../storage/schema';

export interface HandoffReport {
  requested: number;
  taken: number;
  /** Median seconds from the request to an engineer taking it, or null when none was taken. */
  medianWaitSeconds: number | null;
  /** Nobody took it within HANDOFF_WAIT_MINUTES. */
  unanswered: number;
  /** The person withdrew the request before anyone took it. */
  withdrawn: number;
  /** Still waiting, or the chat still under way, when the report was made. */
  open: number;
  /** Chats after which the person said the problem was solved (funnel outcome `resolved_by_person`). */
  resolvedByPerson: number;
}

function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function buildHandoffReport(stats: HandoffStats, resolvedByPerson: number): HandoffReport {
  const { byStatus, waitsSeconds } = stats;
  return {
    requested: Object.values(byStatus).reduce((a, b) => a + b, 0),
    taken: waitsSeconds.length,
    medianWaitSeconds: median(waitsSeconds),
    unanswered: byStatus.expired,
    withdrawn: byStatus.cancelled,
    open: byStatus.waiting + byStatus.taken,
    resolvedByPerson,
  };
}

/** Hand-offs requested in the window, and the chats people called solved in it. */
export async function loadHandoffReport(db: Kysely<Database>, window: { from: Date; to: Date }): Promise<HandoffReport> {
  const [stats, resolved] = await Promise.all([
    handoffStats(db, window.from, window.to),
    db
      .selectFrom('funnel_events')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('kind', '=', indexedFunnelKind('outcome'))
      .where('value', '=', 'resolved_by_person')
      .where('at', '>=', window.from.toISOString())
      .where('at', '<', window.to.toISOString())
      .executeTakeFirstOrThrow(),
  ]);
  return buildHandoffReport(stats, Number(resolved.n));
}
