/**
 * "Did this help?" answers (migration 0016-followups, table `satisfaction`): one row per 👍/👎 at an
 * ending, written in that turn (`TurnCommit.satisfaction`, by `writeSatisfaction`, the turn writer
 * this repository registers), with the optional comment added in a later turn. No name, email or user
 * id is stored: only where and how the run ended, its language, channel and mode, and the comment
 * masked (./mask.ts).
 */
import type { Kysely } from 'kysely';
import { toIso, type Database, type Timestamp } from '../storage/schema';
import type { Store } from '../storage/store';
import type { TransactionTurnWriter } from '../storage/turn-writers';

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

export const writeSatisfaction: TransactionTurnWriter = {
  name: 'satisfaction',
  mode: 'transaction',
  field: 'satisfaction',
  applies: (commit) => commit.satisfaction !== undefined,
  async write(trx, commit) {
    const db = trx.withTables<SatisfactionDatabase>();
    const { rated = [], commented = [] } = commit.satisfaction ?? {};
    if (rated.length) await db.insertInto('satisfaction').values(rated.map((r) => ({ ...r, comment: null }))).execute();
    for (const c of commented) await db.updateTable('satisfaction').set({ comment: c.comment }).where('id', '=', c.id).execute();
  },
};

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
