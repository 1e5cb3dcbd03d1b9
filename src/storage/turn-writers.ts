/**
 * A feature's own writes in a turn: its rows commit with the turn or not at all. Storage knows no
 * feature; each registers its writer with the store (`Store.registerTurnWriter`), usually when its
 * repository is built on the store, and adds the field it reads to `TurnCommit` (see ./store.ts).
 *
 * Two kinds, by how often they apply:
 * - `transaction`: for the rare turn with rows for it (a new case, a Webex notification). Such a
 *   turn commits in a Kysely transaction of its own: the turn's rows, then `write`. `applies` must
 *   be cheap and exact: turns no writer applies to are batched with their neighbours (SQLite
 *   ./sqlite-group-commit.ts, PostgreSQL ./pg-turn-batch.ts) and `write` would not be called.
 * - `batch`: rows of (almost) every turn, written by the batched commit itself at no statement or
 *   transaction of their own: synchronously on SQLite's connection inside the batch, and as
 *   data-modifying CTEs in PostgreSQL's one batch statement.
 *
 * A writer that throws fails its turn, and nothing of the turn is written.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { StoreDialect } from './migrations/types';
import type { Database } from './schema';
import type { TurnCommit } from './turn-commit';

interface TurnWriterBase {
  /** Unique among the store's writers; lower-case letters, digits and _ (it names a PostgreSQL statement). */
  readonly name: string;
  /**
   * The `TurnCommit` field the writer writes, if any. The store refuses a turn with a field that no
   * registered writer writes, so a feature's rows are never dropped for want of a writer.
   */
  readonly field?: keyof TurnCommit;
}

export interface TransactionTurnWriter extends TurnWriterBase {
  readonly mode: 'transaction';
  /** Whether this turn has anything for the writer to write. */
  applies(commit: TurnCommit): boolean;
  /** Runs after the turn's own rows, in the turn's transaction (widen `trx` with `withTables`). */
  write(trx: Kysely<Database>, commit: TurnCommit, dialect: StoreDialect): Promise<void>;
}

/** One turn of a batch, for a batch writer's PostgreSQL parameters. */
export interface BatchedTurn {
  readonly commit: TurnCommit;
  /** The commit's time (ISO). */
  readonly now: string;
}

export interface BatchTurnWriter extends TurnWriterBase {
  readonly mode: 'batch';
  /**
   * SQLite: prepares the writer's statements on the store's connection (at open) and returns what
   * writes one turn's rows, synchronously, inside the batch's transaction; it returns at once for a
   * turn with nothing to write. Called only for turns the store accepted.
   */
  sqlite(db: BetterSqlite3.Database): (commit: TurnCommit) => void;
  /**
   * SQLite: a lookup that reads the pages the writer's statements will touch for a conversation
   * (`@key`), run on a worker thread before a turn of a conversation the process does not hold live
   * (./sqlite-warmer.ts), so the commit does not wait on the disk on the event loop.
   */
  readonly sqliteWarm?: string;
  pg: {
    /** How many parameters `ctes` uses (one each, from `values`). */
    readonly params: number;
    /**
     * Data-modifying CTEs for the batch statement, as `name as (…), name2 as (…)`, using parameters
     * `$first`… `$(first + params - 1)`. They come after the statement's `saved` CTE (the keys of the
     * turns that were stored) and must write only for those: `where key in (select key from saved)`.
     */
    ctes(first: number): string;
    /**
     * The parameters of `ctes` for these turns, `params` of them: each an array (pg sends it as a
     * PostgreSQL array, encoding it element by element) or, cheaper for rows of several columns, one
     * JSON text (`pgJson` of ./pg-turn-sql.ts) the CTEs read with `jsonb_to_recordset`.
     */
    values(turns: readonly BatchedTurn[]): unknown[];
    /**
     * What the batch statement reads back for the writer: `columns` (`expr as name`, …) are added to
     * its one result row, over its CTEs; `read` gets that row (with the `saved` keys) and the batch's
     * turns once the statement succeeded. So an answer a turn needs right after its commit (does the
     * conversation owe anything else?) costs no statement of its own.
     */
    readonly result?: { columns: string; read(row: Record<string, unknown>, turns: readonly BatchedTurn[]): void };
  };
}

export type TurnWriter = TransactionTurnWriter | BatchTurnWriter;

/** The writers a store has, by kind. Replaced (never changed in place) when one is registered. */
export interface TurnWriters {
  readonly transaction: readonly TransactionTurnWriter[];
  readonly batch: readonly BatchTurnWriter[];
}

export const NO_TURN_WRITERS: TurnWriters = { transaction: [], batch: [] };
