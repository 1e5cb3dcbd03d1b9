/**
 * PostgreSQL turns in batches. Turns that load or commit in the same pass of the event loop share one
 * statement: all the loads in one `select` (one row per turn), all the commits in one statement of
 * data-modifying CTEs fed by JSON documents (./pg-turn-sql.ts). A turn thus costs two statements
 * shared with its neighbours instead of two to six of its own (README "Performance"). Both are named
 * (prepared once per connection), so the server parses and plans them once.
 *
 * A batch commit is atomic as one statement, and each turn in it is checked on its own: a turn whose
 * activity is already processed (`DuplicateActivityError`) or whose conversation already has its
 * turn or a newer one (`ConcurrentTurnError`: another instance got there first) writes nothing, the
 * others are committed. A statement that fails for any other reason is retried turn by turn, so one
 * bad turn fails alone; so is a batched load: a failure of one turn never fails another. When the
 * connection is lost with the statement sent, whether it committed is read back before anything is
 * retried, so no turn is written twice and none is lost silently.
 *
 * The batch turn writers' rows (./turn-writers.ts) are CTEs of the same statement. Turns with rows
 * for a transaction turn writer run the same statement for themselves inside a transaction
 * (`commitOneInTransaction`), with the writers after it.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import { ConcurrentTurnError, DuplicateActivityError, StorageUnavailableError, isConnectionError, isStaleConnectionError } from './errors';
import type { Database } from './schema';
import type { TurnCommit, TurnLoadRequest } from './store';
import { TickBatch, type Pending } from './tick-batch';
import type { BatchTurnWriter, BatchedTurn } from './turn-writers';
import { nameStatement } from './pg-named-statements';
import { LOAD_TURNS_PG, TURNS_LANDED_PG, commitParams, commitTurnsSql } from './pg-turn-sql';

interface CommitRequest {
  commit: TurnCommit;
  now: string;
}

export interface PgTurnBatchOptions {
  /** The pool, or undefined once the store is closed. */
  pool: () => pg.Pool | undefined;
  /** How many times a statement may meet a dead pooled connection before the error counts. */
  staleRetries: number;
  wrap: (op: string, err: unknown) => Error;
  /** The store's batch turn writers now (a new array whenever one is registered). */
  writers: () => readonly BatchTurnWriter[];
}

/** The commit statement for one set of batch writers; its name differs when its text does (pg prepares by name). */
interface CommitStatement {
  writers: readonly BatchTurnWriter[];
  name: string;
  text: string;
}

/** Statements of a batch, as `{ saved, dup }` key lists, and the columns batch writers read back. */
interface CommitResult {
  saved: string[];
  dup: string[];
  [column: string]: unknown;
}

/**
 * Hands the statement's result row to the writers that read it back (`pg.result`). What they read is
 * an answer the turn could also ask for later, so a reader that throws leaves it unread and the
 * turns, committed, still resolve.
 */
function readResults(writers: readonly BatchTurnWriter[], row: CommitResult, turns: readonly BatchedTurn[]): void {
  for (const w of writers) {
    try {
      w.pg.result?.read(row, turns);
    } catch {
      // Unread: the channel asks on its own.
    }
  }
}

export class PgTurnBatch {
  private readonly loads = new TickBatch<TurnLoadRequest, Record<string, unknown>>((batch) => this.flushLoads(batch));
  private readonly commits = new TickBatch<CommitRequest, void>(
    (batch) => this.flushCommits(batch),
    (r) => r.commit.conversation.key,
  );
  /** Statements run and turns in them (for tests and the bench). */
  readonly stats = { loadStatements: 0, commitStatements: 0, turnsCommitted: 0, largestCommit: 0 };
  private statement?: CommitStatement;

  constructor(private readonly opts: PgTurnBatchOptions) {}

  /**
   * The row `loadTurn` reads: `user_locale` and the conversation's columns (null when new; snapshot
   * and parents null too when it is stored at the request's `knownTurn`).
   */
  load(request: TurnLoadRequest): Promise<Record<string, unknown>> {
    return this.loads.add(request);
  }

  commit(commit: TurnCommit, now: string): Promise<void> {
    return this.commits.add({ commit, now });
  }

  /** One turn's rows in the caller's transaction; throws when the turn is refused (the caller rolls back). */
  async commitOneInTransaction(trx: Kysely<Database>, commit: TurnCommit, now: string): Promise<void> {
    const statement = this.commitStatement();
    // Sent with its name all the same: the text is registered (./pg-named-statements.ts).
    const turns = [{ commit, now }];
    const { rows } = await trx.executeQuery<CommitResult>(CompiledQuery.raw(statement.text, commitParams(turns, statement.writers)));
    const row = rows[0] ?? { saved: [], dup: [] };
    const error = refusal(commit, row);
    if (error) throw error;
    readResults(statement.writers, row, turns);
  }

  private async flushLoads(batch: Pending<TurnLoadRequest, Record<string, unknown>>[]): Promise<void> {
    const values = [batch.map((p) => p.item.conversationKey), batch.map((p) => p.item.userKey), batch.map((p) => p.item.knownTurn ?? null)];
    try {
      const { rows } = await this.query<Record<string, unknown>>('pce_load_turns', LOAD_TURNS_PG, values);
      this.stats.loadStatements++;
      batch.forEach((p, i) => {
        const row = rows[i];
        if (row) p.resolve(row);
        else p.reject(new Error('the database returned no row for a turn'));
      });
    } catch (err) {
      if (batch.length > 1 && mayBeOneTurnsFault(err)) {
        // One turn's bad key fails the statement: each turn again on its own, so it fails alone.
        await Promise.all(batch.map((p) => this.flushLoads([p])));
        return;
      }
      const wrapped = this.opts.wrap('load a turn', err);
      for (const p of batch) p.reject(wrapped);
    }
  }

  private async flushCommits(batch: Pending<CommitRequest, void>[], resolvingLostConnection = false): Promise<void> {
    let result: CommitResult;
    const { name, text, writers } = this.commitStatement();
    const turns = batch.map((p) => p.item);
    try {
      const { rows } = await this.pool().query<CommitResult>({ name, text, values: commitParams(turns, writers) });
      result = rows[0] ?? { saved: [], dup: [] };
    } catch (err) {
      if (isConnectionError(err) && !resolvingLostConnection) return this.afterLostConnection(batch, err);
      if (batch.length > 1 && mayBeOneTurnsFault(err)) {
        // One turn's bad data fails the statement: each turn again on its own, so it fails alone.
        await Promise.all(batch.map((p) => this.flushCommits([p], resolvingLostConnection)));
        return;
      }
      const wrapped = this.opts.wrap('commit a turn', err);
      for (const p of batch) p.reject(wrapped);
      return;
    }
    this.stats.commitStatements++;
    this.stats.largestCommit = Math.max(this.stats.largestCommit, batch.length);
    readResults(writers, result, turns);
    for (const p of batch) {
      const error = refusal(p.item.commit, result);
      if (error) p.reject(error);
      else {
        this.stats.turnsCommitted++;
        p.resolve();
      }
    }
  }

  /**
   * The connection went away with the statement sent: it committed entirely or not at all. Read back
   * which turns stand stored exactly as sent. None: run the batch again (once; had it committed with
   * every turn refused, it refuses them again). Some: it committed; the others were refused, and
   * their turns run again on what is stored (the engine retries a `ConcurrentTurnError`).
   */
  private async afterLostConnection(batch: Pending<CommitRequest, void>[], lost: unknown): Promise<void> {
    const conversations = batch.map((p) => p.item.commit.conversation);
    let stored: Set<string>;
    try {
      const { rows } = await this.query<{ key: string }>('pce_turns_landed', TURNS_LANDED_PG, [
        conversations.map((c) => c.key),
        conversations.map((c) => c.turn),
        conversations.map((c) => c.updatedAt),
      ]);
      stored = new Set(rows.map((r) => r.key));
    } catch {
      const err = new StorageUnavailableError(
        `Could not commit a turn: the database connection was lost and whether the turn was stored is unknown (${(lost as Error).message})`,
        undefined,
        { cause: lost },
      );
      for (const p of batch) p.reject(err);
      return;
    }
    if (stored.size === 0) return this.flushCommits(batch, true);
    for (const p of batch) {
      const c = p.item.commit.conversation;
      if (stored.has(c.key)) {
        this.stats.turnsCommitted++;
        p.resolve();
      } else p.reject(new ConcurrentTurnError(c.key, c.turn));
    }
  }

  /** A named statement on a pooled connection, again on the next connection when a pooled one was dead. */
  private async query<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    for (let n = 0; ; n++) {
      try {
        return await this.pool().query<R>({ name, text, values });
      } catch (err) {
        if (n >= this.opts.staleRetries || !isStaleConnectionError(err)) throw err;
      }
    }
  }

  private commitStatement(): CommitStatement {
    const writers = this.opts.writers();
    if (this.statement?.writers !== writers) {
      const text = commitTurnsSql(writers);
      this.statement = { writers, name: nameStatement(text), text };
    }
    return this.statement;
  }

  private pool(): pg.Pool {
    const pool = this.opts.pool();
    if (!pool) throw new StorageUnavailableError('The store is closed.');
    return pool;
  }
}

/**
 * Whether a failed batch statement may have failed for one turn's data (a NUL byte, a value out of
 * range, a constraint), so its turns are worth running one by one. Not when the connection went, nor
 * for SQLSTATE classes 53 (insufficient resources) and 57 (a statement timeout, a shutdown): those
 * fail every turn alike, and running each alone would only add load to a database in trouble.
 */
function mayBeOneTurnsFault(err: unknown): boolean {
  if (isConnectionError(err)) return false;
  const code = (err as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && /^5[37]/.test(code));
}

function refusal(commit: TurnCommit, result: CommitResult): Error | undefined {
  const key = commit.conversation.key;
  if (result.saved.includes(key)) return undefined;
  if (commit.activityKey && result.dup.includes(key)) return new DuplicateActivityError(commit.activityKey);
  return new ConcurrentTurnError(key, commit.conversation.turn);
}
