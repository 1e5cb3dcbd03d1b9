/**
 * Group commit for SQLite turns. Turns that reach `commitTurn` in the same pass of the event loop
 * are written in one SQLite transaction, each inside a savepoint of its own: a turn that is refused
 * (`DuplicateActivityError`, `ConcurrentTurnError`) or fails rolls back alone, the others commit.
 * Every caller's promise settles only after the shared COMMIT, so a reply is never sent for a turn
 * that is not stored, exactly as with one transaction per turn.
 *
 * Why: a COMMIT writes every page the transaction dirtied to the WAL. A turn touches ~10 pages
 * (conversation, transcript, funnel and processed-activity rows and their indexes) and most of them
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
import { CONVERSATION_COLUMNS, CONVERSATION_UPSERT } from './turn-sql';

interface CommitRequest {
  commit: TurnCommit;
  now: string;
}


export class SqliteGroupCommit {
  private readonly batch = new TickBatch<CommitRequest, void>((batch) => this.flush(batch));
  private readonly markProcessed: BetterSqlite3.Statement;
  private readonly saveConversation: BetterSqlite3.Statement;
  private readonly saveUserLocale: BetterSqlite3.Statement;
  private readonly insertTranscript: BetterSqlite3.Statement;
  private readonly insertFunnel: BetterSqlite3.Statement;
  private readonly writeOne: (r: CommitRequest) => void;
  private readonly writeBatch: (batch: Pending<CommitRequest, void>[]) => unknown[];
  /** Batches committed and turns in them (for tests and the bench). */
  readonly stats = { batches: 0, turns: 0, largest: 0 };

  constructor(
    db: BetterSqlite3.Database,
    /** Runs `fn` while this process holds the (one) SQLite connection. */
    private readonly exclusive: (fn: () => void) => Promise<void>,
  ) {
    this.markProcessed = db.prepare('insert into processed_activities (key, created_at) values (?, ?) on conflict (key) do nothing');
    this.saveConversation = db.prepare(`insert into conversations (${CONVERSATION_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ${CONVERSATION_UPSERT}`);
    this.saveUserLocale = db.prepare(
      'insert into user_locales (user_key, locale, updated_at) values (?, ?, ?) on conflict (user_key) do update set locale = excluded.locale, updated_at = excluded.updated_at',
    );
    this.insertTranscript = db.prepare('insert into transcript_entries (conversation_key, at, sender, text) values (?, ?, ?, ?)');
    this.insertFunnel = db.prepare(
      'insert into funnel_events (at, conversation_key, channel, locale, mode, kind, step, value) values (?, ?, ?, ?, ?, ?, ?, ?)',
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

  /** Resolves once the turn is committed; rejects with what refused or failed it (nothing of it written). */
  commit(commit: TurnCommit, now: string): Promise<void> {
    return this.batch.add({ commit, now });
  }

  private async flush(batch: Pending<CommitRequest, void>[]): Promise<void> {
    let outcomes: unknown[] | undefined;
    try {
      await this.exclusive(() => {
        outcomes = this.writeBatch(batch);
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
    if (commit.activityKey && this.markProcessed.run(commit.activityKey, now).changes === 0) {
      throw new DuplicateActivityError(commit.activityKey);
    }
    const saved = this.saveConversation.run(
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
    );
    if (saved.changes === 0) throw new ConcurrentTurnError(c.key, c.turn);
    for (const e of commit.transcript) this.insertTranscript.run(c.key, e.at, e.from, e.text);
    if (commit.userLocale) this.saveUserLocale.run(commit.userLocale.userKey, commit.userLocale.locale, now);
    for (const f of commit.funnel ?? []) this.insertFunnel.run(f.at, f.conversationKey, f.channel, f.locale, f.mode, f.kind, f.step, f.value ?? null);
  }
}
