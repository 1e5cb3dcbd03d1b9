/**
 * Group commit for SQLite turns. Turns that reach `commitTurn` in the same pass of the event loop
 * are written in one SQLite transaction: a turn that is refused (`DuplicateActivityError`,
 * `ConcurrentTurnError`) is refused before it writes anything, and when a turn fails for any other
 * reason the batch runs again with a savepoint per turn, so it fails alone and the others commit.
 * Every caller's promise settles only after the shared COMMIT, so a reply is never sent for a turn
 * that is not stored, exactly as with one transaction per turn.
 *
 * Why: a COMMIT writes every page the transaction dirtied to the WAL. A turn touches ~10 pages
 * (conversation, transcript and funnel rows and their indexes) and most of them
 * are the same pages for every turn (table tails, index roots), so committing N turns together
 * writes far fewer pages than N commits. It also runs better-sqlite3's statements directly instead
 * of through Kysely's driver (README "Performance").
 *
 * The batch runs synchronously inside `exclusive`, which holds Kysely's single SQLite connection, so
 * it never lands in the middle of a transaction Kysely has open on the same connection.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { ConcurrentTurnError, DuplicateActivityError } from './errors';
import type { TurnCommit } from './store';
import { TickBatch, type Pending } from './tick-batch';
import type { BatchTurnWriter } from './turn-writers';
import { CONVERSATION_COLUMNS, activeDay, conversationUpsert, hasRecentActivity, withRecentActivity } from './turn-sql';

interface CommitRequest {
  commit: TurnCommit;
  now: string;
}

export class SqliteGroupCommit {
  private readonly batch = new TickBatch<CommitRequest, void>((batch) => this.flush(batch));
  private readonly storedTurn: BetterSqlite3.Statement;
  private readonly saveConversation: BetterSqlite3.Statement;
  /** The same, for a turn on the stored row's day: `active_day` and its index left alone. */
  private readonly saveConversationSameDay: BetterSqlite3.Statement;
  private readonly saveUserLocale: BetterSqlite3.Statement;
  /** Multi-row inserts, one prepared statement per row count (a turn has 1-5 rows of each). */
  private readonly insertTranscript: (rows: number) => BetterSqlite3.Statement;
  private readonly insertFunnel: (rows: number) => BetterSqlite3.Statement;
  /** The batch turn writers' rows (./turn-writers.ts), e.g. the turn's replies kept until the channel has them. */
  private readonly batchWrites: ((commit: TurnCommit) => void)[] = [];
  private readonly writeBatchFast: (batch: Pending<CommitRequest, void>[]) => unknown[];
  private readonly writeOne: (r: CommitRequest) => void;
  private readonly writeBatch: (batch: Pending<CommitRequest, void>[]) => unknown[];
  /** Batches committed and turns in them (for tests and the bench). */
  readonly stats = { batches: 0, turns: 0, largest: 0 };

  constructor(
    private readonly db: BetterSqlite3.Database,
    /** Runs `fn` while this process holds the (one) SQLite connection. */
    private readonly exclusive: (fn: () => void) => Promise<void>,
    writers: readonly BatchTurnWriter[] = [],
  ) {
    // The page was just read by the turn's load: still in SQLite's cache.
    this.storedTurn = db.prepare('select turn, recent_activities, active_day from conversations where key = ?');
    const insert = `insert into conversations (${CONVERSATION_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    this.saveConversation = db.prepare(`${insert} ${conversationUpsert('excluded.recent_activities')}`);
    this.saveConversationSameDay = db.prepare(`${insert} ${conversationUpsert('excluded.recent_activities', false)}`);
    this.saveUserLocale = db.prepare(
      'insert into user_locales (user_key, locale, updated_at) values (?, ?, ?) on conflict (user_key) do update set locale = excluded.locale, updated_at = excluded.updated_at',
    );
    this.insertTranscript = multiRowInsert(db, 'transcript_entries', ['conversation_key', 'at', 'sender', 'text']);
    this.insertFunnel = multiRowInsert(db, 'funnel_events', ['at', 'conversation_key', 'channel', 'locale', 'mode', 'kind', 'step', 'value']);
    for (const writer of writers) this.addWriter(writer);
    // Usually no savepoints: `writeRows` refuses a turn before it has written anything that stays.
    // A turn failing for any other reason aborts this and the batch runs again, a savepoint each.
    this.writeBatchFast = db.transaction((batch: Pending<CommitRequest, void>[]) =>
      batch.map((p) => {
        try {
          this.writeRows(p.item.commit, p.item.now);
          return undefined;
        } catch (err) {
          if (err instanceof DuplicateActivityError || err instanceof ConcurrentTurnError) return err;
          throw err;
        }
      }),
    );
    // A better-sqlite3 transaction function called inside another one runs as a savepoint.
    this.writeOne = db.transaction((r: CommitRequest) => this.writeRows(r.commit, r.now));
    this.writeBatch = db.transaction((batch: Pending<CommitRequest, void>[]) =>
      batch.map((p) => {
        try {
          this.writeOne(p.item);
          return undefined;
        } catch (err) {
          return err ?? new Error('turn write failed');
        }
      }),
    );
  }

  /** Prepares a batch writer's statements; from now on it writes its rows of every turn. */
  addWriter(writer: BatchTurnWriter): void {
    this.batchWrites.push(writer.sqlite(this.db));
  }

  /** Resolves once the turn is committed; rejects with what refused or failed it (nothing of it written). */
  commit(commit: TurnCommit, now: string): Promise<void> {
    return this.batch.add({ commit, now });
  }

  private async flush(batch: Pending<CommitRequest, void>[]): Promise<void> {
    let outcomes: unknown[] | undefined;
    try {
      await this.exclusive(() => {
        try {
          outcomes = this.writeBatchFast(batch);
        } catch {
          outcomes = this.writeBatch(batch);
        }
      });
    } catch (err) {
      // BEGIN or COMMIT failed: none of the batch is stored.
      for (const p of batch) p.reject(err);
      return;
    }
    this.stats.batches++;
    this.stats.turns += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    batch.forEach((p, i) => {
      const err = outcomes?.[i];
      if (err === undefined) p.resolve();
      else p.reject(err);
    });
  }

  /**
   * The turn's own rows, synchronously, on the connection's current transaction. Also used by the
   * store for turns with turn-writer rows, inside the Kysely transaction it opens for them.
   */
  writeRows(commit: TurnCommit, now: string): void {
    const c = commit.conversation;
    // Refusals come before any write, so a refused turn leaves nothing behind without a savepoint.
    const stored = this.storedTurn.get(c.key) as { turn: number; recent_activities: string; active_day: number } | undefined;
    if (commit.activityKey && hasRecentActivity(stored?.recent_activities, commit.activityKey)) {
      throw new DuplicateActivityError(commit.activityKey);
    }
    if (stored && stored.turn >= c.turn) throw new ConcurrentTurnError(c.key, c.turn);
    const recent = stored?.recent_activities ?? '';
    const day = activeDay(c.updatedAt);
    const saved = (stored?.active_day === day ? this.saveConversationSameDay : this.saveConversation).run(
      c.key,
      c.channel,
      c.flowId,
      c.flowVersion,
      JSON.stringify(c.snapshot ?? null),
      JSON.stringify(c.parents),
      c.locale,
      c.turn,
      c.userId,
      c.createdAt,
      c.updatedAt,
      commit.activityKey ? withRecentActivity(recent, commit.activityKey) : recent,
      c.channelMark ?? '',
      day,
    );
    // Refused by the upsert's own turn check (another connection wrote the row in between): nothing written.
    if (saved.changes === 0) throw new ConcurrentTurnError(c.key, c.turn);
    const transcript = commit.transcript;
    if (transcript.length) this.insertTranscript(transcript.length).run(transcript.flatMap((e) => [c.key, e.at, e.from, e.text]));
    if (commit.userLocale) this.saveUserLocale.run(commit.userLocale.userKey, commit.userLocale.locale, now);
    const funnel = commit.funnel ?? [];
    if (funnel.length) {
      this.insertFunnel(funnel.length).run(funnel.flatMap((f) => [f.at, f.conversationKey, f.channel, f.locale, f.mode, f.kind, f.step, f.value ?? null]));
    }
    for (const write of this.batchWrites) write(commit);
  }
}

/** `insert into table (columns) values (?, …), …` prepared once per row count. */
function multiRowInsert(db: BetterSqlite3.Database, table: string, columns: string[]): (rows: number) => BetterSqlite3.Statement {
  const prepared = new Map<number, BetterSqlite3.Statement>();
  const row = `(${columns.map(() => '?').join(', ')})`;
  return (rows) => {
    let statement = prepared.get(rows);
    if (!statement) {
      statement = db.prepare(`insert into ${table} (${columns.join(', ')}) values ${Array.from({ length: rows }, () => row).join(', ')}`);
      prepared.set(rows, statement);
    }
    return statement;
  };
}
