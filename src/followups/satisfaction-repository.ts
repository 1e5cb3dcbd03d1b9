/**
 * "Did this help?" answers (migration 0016-followups, table `satisfaction`): one row per 👍/👎 at an
 * ending, written in that turn (`TurnCommit.satisfaction`, by `writeSatisfaction` of
 * ./satisfaction-writer.ts, the batch turn writer this repository registers), with the optional
 * comment added in a later turn. No name, email or user id is stored: only where and how the run
 * ended, its language, channel and mode, and the comment masked (./mask.ts).
 */
import type { Kysely } from 'kysely';
import { toIso, type Database, type Timestamp } from '../storage/schema';
import type { Store } from '../storage/store';
import { writeSatisfaction } from './satisfaction-writer';

export { writeSatisfaction };

declare module '../storage/turn-commit' {
  interface TurnCommit {
    /** Ratings given (and comments added to them) in this turn (written by `writeSatisfaction`). */
    satisfaction?: SatisfactionWrites;
  }
}

export interface NewRating {
  id: string;
  flow: string;
  ending: string;
  outcome: string;
  locale: string;
  channel: string;
  mode: 'self' | 'agent';
  rating: 'up' | 'down';
  at: string;
}

export interface SatisfactionWrites {
  rated?: NewRating[];
  /** Already masked. */
  commented?: { id: string; comment: string }[];
}

export type SatisfactionTable = Omit<NewRating, 'mode' | 'rating' | 'at'> & { mode: string; rating: string; comment: string | null; at: Timestamp };

export type SatisfactionDatabase = { satisfaction: SatisfactionTable };

export class SatisfactionRepository {
  constructor(private readonly store: Pick<Store, 'db' | 'registerTurnWriter'>) {
    store.registerTurnWriter(writeSatisfaction);
  }

  private get db(): Kysely<Database & SatisfactionDatabase> {
    return this.store.db.withTables<SatisfactionDatabase>();
  }

  /** Every rating, oldest first (tests, exports): no personal data in any column. */
  async all(): Promise<(Omit<SatisfactionTable, 'at'> & { at: string })[]> {
    const rows = await this.db.selectFrom('satisfaction').selectAll().orderBy('at').orderBy('id').execute();
    return rows.map((r) => ({ ...r, at: toIso(r.at) }));
  }
}
