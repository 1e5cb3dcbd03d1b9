/**
 * The one `Store` over Kysely, for SQLite (better-sqlite3, the default) and PostgreSQL (pg, for
 * several instances). Queries are written once; only the connection (./connect.ts), the hot turn
 * statements and a few column types differ between the dialects.
 *
 * Turn discipline:
 * - In each process, `runExclusive` is a per-conversation mutex: the turns of a conversation run one
 *   after the other.
 * - Across PostgreSQL instances, concurrency is optimistic (as Bot Framework's own state storage does
 *   with eTags): `commitTurn` refuses a turn when the conversation already has that turn or a newer
 *   one (`ConcurrentTurnError`, the engine runs the turn again on what is stored) and an activity
 *   recorded before (`DuplicateActivityError`). No connection is held while a turn thinks.
 * - The hot statements (load a turn, commit a turn) are batched per pass of the event loop:
 *   ./sqlite-group-commit.ts and ./pg-turn-batch.ts. The features' rows in a turn come from the turn
 *   writers they register (./turn-writers.ts).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Locale } from '../../dialogs/flow';
import type { Logger } from '../log';
import { appliedMigrations, migrate, openPostgres, openSqlite, redactUrl } from './connect';
import { toConversation, toLocale, toTranscriptEntry } from './conversation-row';
import { StorageError, StorageUnavailableError, isConnectionError, isStaleConnectionError } from './errors';
import { KeyedMutex } from './keyed-mutex';
import { PgTurnBatch } from './pg-turn-batch';
import type { Database } from './schema';
import type { SqliteCheckpointer } from './sqlite-checkpointer';
import { SqliteGroupCommit } from './sqlite-group-commit';
import { SqliteTurnLoad } from './sqlite-turn-load';
import type { SqliteWarmer } from './sqlite-warmer';
import { STORE_TURN_FIELDS, type ConversationState, type Store, type TranscriptEntry, type TurnCommit, type TurnLoad, type TurnLoadRequest } from './store';
import { NO_TURN_WRITERS, type TurnWriter, type TurnWriters } from './turn-writers';
import { hasRecentActivity } from './turn-sql';
import type { StoreTarget } from './url';

export interface SqlStoreOptions {
  /** PostgreSQL: connections per instance (DATABASE_POOL_SIZE). */
  poolSize?: number;
  /** PostgreSQL: the schema holding the tables (created if missing); `public` by default. */
  schema?: string;
  /** PostgreSQL: shown in pg_stat_activity. */
  applicationName?: string;
  /** PostgreSQL: how long to wait for a new connection before failing. */
  connectTimeoutMs?: number;
  /** PostgreSQL: server-side limit for one statement, including waiting for a conversation lock. */
  statementTimeoutMs?: number;
  /** SQLite: how long a writer waits for the file lock. */
  busyTimeoutMs?: number;
  /** Processed-activity marks older than this are pruned (re-deliveries come within minutes). */
  processedRetentionMs?: number;
  /** How often pruning runs while the store is open. */
  pruneIntervalMs?: number;
  /** SQLite: how often a worker thread checkpoints the WAL (0: SQLite checkpoints on commit, on the event loop). */
  checkpointIntervalMs?: number;
  /** SQLite: the page cache, MiB (0: SQLite's own). */
  sqliteCacheMiB?: number;
  /** SQLite: read a conversation's pages on a worker thread before its turn (./sqlite-warmer.ts). */
  warmReads?: boolean;
  clock?: () => Date;
}

const DEFAULTS = {
  poolSize: 10,
  schema: 'public',
  applicationName: 'pce-support-bot',
  connectTimeoutMs: 5_000,
  statementTimeoutMs: 10_000,
  busyTimeoutMs: 5_000,
  processedRetentionMs: 7 * 24 * 3600_000,
  pruneIntervalMs: 3600_000,
  checkpointIntervalMs: 200,
  sqliteCacheMiB: 0,
  warmReads: true,
} as const;

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  private root?: Kysely<Database>;
  private pool?: pg.Pool;
  /** PostgreSQL: the turn's load and commit statements' own connections (./connect.ts TURN_CONNECTION_OPTIONS). */
  private turnPool?: pg.Pool;
  private readonly local = new KeyedMutex();
  private readonly opts: Required<Omit<SqlStoreOptions, 'clock'>> & { clock: () => Date };
  private pruneTimer?: NodeJS.Timeout;
  private checkpointer?: SqliteCheckpointer;
  private sqlite?: BetterSqlite3.Database;
  private groupCommit?: SqliteGroupCommit;
  private sqliteLoad?: SqliteTurnLoad;
  private pgBatch?: PgTurnBatch;
  private closed = false;
  private writers: TurnWriters = NO_TURN_WRITERS;
  /** `TurnCommit` fields something writes: the store's own and the registered writers'. */
  private readonly turnFields = new Set<string>(STORE_TURN_FIELDS);

  constructor(
    private readonly target: StoreTarget,
    private readonly logger: Logger,
    options: SqlStoreOptions = {},
  ) {
    this.kind = target.dialect;
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.opts = { ...DEFAULTS, clock: () => new Date(), ...defined };
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.opts.schema)) {
      throw new StorageError(`Invalid PostgreSQL schema name "${this.opts.schema}"`, 'Use lower-case letters, digits and _.');
    }
  }

  get db(): Kysely<Database> {
    return this.requireRoot();
  }

  /** PostgreSQL: the schema the tables live in. */
  get schema(): string | undefined {
    return this.kind === 'postgres' ? this.opts.schema : undefined;
  }

  /** Where the data lives, without credentials (for logs and /healthz). */
  get description(): string {
    return this.target.dialect === 'sqlite' ? `sqlite:${this.target.path}` : `${redactUrl(this.target.url)} (schema ${this.opts.schema})`;
  }

  registerTurnWriter(writer: TurnWriter): void {
    const same = [...this.writers.transaction, ...this.writers.batch].find((w) => w.name === writer.name);
    if (same === writer) return;
    if (same) throw new StorageError(`Another turn writer named "${writer.name}" is already registered with this store.`);
    if (!/^[a-z][a-z0-9_]{0,30}$/.test(writer.name)) throw new StorageError(`Invalid turn writer name "${writer.name}"`, 'Use lower-case letters, digits and _.');
    if (writer.mode === 'batch') {
      this.writers = { ...this.writers, batch: [...this.writers.batch, writer] };
      this.groupCommit?.addWriter(writer);
      this.sqliteLoad?.addWriter(writer);
    } else {
      this.writers = { ...this.writers, transaction: [...this.writers.transaction, writer] };
    }
    if (writer.field) this.turnFields.add(writer.field);
  }

  async open(): Promise<void> {
    if (this.root) return;
    this.closed = false;
    const t = this.target;
    if (t.dialect === 'sqlite') {
      const opened = openSqlite(t.path, this.opts, this.logger);
      this.root = opened.db;
      this.sqlite = opened.sqlite;
      this.checkpointer = opened.checkpointer;
    } else {
      const opened = await openPostgres(t.url, this.opts, this.logger);
      this.root = opened.db;
      this.pool = opened.pool;
      this.turnPool = opened.turnPool;
    }
    try {
      const root = this.root;
      await migrate(t.dialect === 'sqlite' ? { dialect: 'sqlite', db: root } : { dialect: 'postgres', db: root, url: t.url, settings: this.opts }, this.logger);
      // Prepared after the migrations: the statements need the tables.
      if (this.sqlite) {
        this.groupCommit = new SqliteGroupCommit(this.sqlite, (fn) => root.connection().execute(async () => fn()), this.writers.batch);
        this.sqliteLoad = new SqliteTurnLoad(this.sqlite, this.opts.warmReads && t.dialect === 'sqlite' ? t.path : undefined, this.writers.batch, this.logger);
      } else {
        this.pgBatch = new PgTurnBatch({
          pool: () => this.turnPool,
          staleRetries: this.staleRetries,
          wrap: (op, err) => this.wrap(op, err),
          writers: () => this.writers.batch,
        });
      }
      await this.pruneProcessedActivities();
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
    this.pruneTimer = setInterval(() => {
      this.pruneProcessedActivities().catch((err) => this.logger.warn({ err }, 'pruning processed activities failed'));
    }, this.opts.pruneIntervalMs);
    this.pruneTimer.unref();
    this.logger.info({ storage: this.description }, 'storage open');
  }

  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    await Promise.all([this.checkpointer?.stop(), this.sqliteLoad?.stop()]);
    this.checkpointer = undefined;
    const root = this.root;
    this.root = undefined;
    this.pool = undefined;
    const turnPool = this.turnPool;
    this.turnPool = undefined;
    this.sqlite = undefined;
    this.groupCommit = undefined;
    this.sqliteLoad = undefined;
    this.pgBatch = undefined;
    this.closed = true;
    await Promise.all([root?.destroy(), turnPool?.end()]);
  }

  async runExclusive<T>(conversationKey: string, fn: () => Promise<T>): Promise<T> {
    this.requireRoot();
    return this.local.run(conversationKey, fn);
  }

  async isProcessed(conversationKey: string, activityKey: string): Promise<boolean> {
    const row = await this.read('check a processed activity', (db) =>
      db.selectFrom('conversations').select('recent_activities').where('key', '=', conversationKey).executeTakeFirst(),
    );
    return hasRecentActivity(row?.recent_activities, activityKey);
  }

  async loadConversation(key: string): Promise<ConversationState | undefined> {
    const row = await this.read('load a conversation', (db) =>
      db.selectFrom('conversations').selectAll().where('key', '=', key).executeTakeFirst(),
    );
    return row ? toConversation(key, row, this.logger) : undefined;
  }

  async loadTurn(input: TurnLoadRequest): Promise<TurnLoad> {
    this.requireRoot();
    let stored: Record<string, unknown> | undefined;
    let userLocale: unknown;
    if (this.pgBatch) {
      const row = await this.pgBatch.load(input);
      if (!row) throw new StorageError('Could not load a turn: the database returned no row.');
      const { user_locale, ...conversation } = row;
      userLocale = user_locale;
      // A left join: the conversation's columns are null when it is new.
      stored = conversation.key === null || conversation.key === undefined ? undefined : conversation;
    } else {
      try {
        ({ stored, userLocale } = await this.sqliteLoad!.load(input));
      } catch (err) {
        throw this.wrap('load a turn', err);
      }
    }
    const recent = stored?.recent_activities;
    const processed = input.activityKey !== undefined && hasRecentActivity(typeof recent === 'string' ? recent : undefined, input.activityKey);
    if (stored && input.knownTurn !== undefined && Number(stored.turn) === input.knownTurn) {
      return { processed, unchanged: true, userLocale: toLocale(userLocale) };
    }
    return { processed, conversation: stored ? toConversation(input.conversationKey, stored, this.logger) : undefined, userLocale: toLocale(userLocale) };
  }

  async loadTranscript(key: string): Promise<TranscriptEntry[]> {
    const rows = await this.read('load a transcript', (db) =>
      db
        .selectFrom('transcript_entries')
        .select(['at', 'sender', 'text'])
        .where('conversation_key', '=', key)
        .orderBy('id', 'asc')
        .execute(),
    );
    return rows.map(toTranscriptEntry);
  }

  async getUserLocale(userKey: string): Promise<Locale | undefined> {
    const row = await this.read('load a user language', (db) =>
      db.selectFrom('user_locales').select('locale').where('user_key', '=', userKey).executeTakeFirst(),
    );
    return toLocale(row?.locale);
  }

  async commitTurn(commit: TurnCommit): Promise<void> {
    this.refuseUnwrittenFields(commit);
    const now = this.opts.clock().toISOString();
    if (!this.writers.transaction.some((w) => w.applies(commit))) {
      // The common turn: batched with the turns committing in the same pass of the event loop.
      if (this.pgBatch) return this.pgBatch.commit(commit, now);
      try {
        return await this.requireGroupCommit().commit(commit, now);
      } catch (err) {
        throw this.wrap('commit a turn', err);
      }
    }
    // A turn with rows for a transaction turn writer (a case, a Webex notification): a transaction of its own.
    const attempt = async (): Promise<{ ok: true } | { ok: false; err: unknown; retryable: boolean }> => {
      let bodyDone = false;
      try {
        await this.requireRoot()
          .transaction()
          .execute(async (trx) => {
            await this.writeTurn(trx, commit, now);
            bodyDone = true;
          });
        return { ok: true };
      } catch (err) {
        // Until COMMIT is sent nothing can have been written; after it, the outcome is unknown.
        return { ok: false, err, retryable: !bodyDone && isStaleConnectionError(err) };
      }
    };
    let result = await attempt();
    // The pool may hand out connections the server has just closed: retry on the next one.
    for (let n = 1; !result.ok && result.retryable && n <= this.staleRetries; n++) result = await attempt();
    if (!result.ok) throw this.wrap('commit a turn', result.err);
  }

  /**
   * Deletes processed-activity marks older than the retention; returns how many went. Since migration
   * 0009 turns record their activities in the conversation row, so this only empties the old table
   * (and what instances before 0009 write to it during a rolling upgrade).
   */
  async pruneProcessedActivities(olderThan?: Date): Promise<number> {
    const cutoff = olderThan ?? new Date(this.opts.clock().getTime() - this.opts.processedRetentionMs);
    const result = await this.read('prune processed activities', (db) =>
      db.deleteFrom('processed_activities').where('created_at', '<', cutoff.toISOString()).executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }

  /** SQLite: how turns were group-committed (undefined on PostgreSQL). */
  get groupCommits(): SqliteGroupCommit['stats'] | undefined {
    return this.groupCommit?.stats;
  }

  /** Statements (PostgreSQL) or transactions (SQLite) that committed batches of turns so far. */
  get commitBatches(): number {
    return this.groupCommit?.stats.batches ?? this.pgBatch?.stats.commitStatements ?? 0;
  }

  /** PostgreSQL: how turns were loaded and committed in batches (undefined on SQLite). */
  get pgBatches(): PgTurnBatch['stats'] | undefined {
    return this.pgBatch?.stats;
  }

  /** SQLite: the read-ahead, its counts and readiness (undefined when it does not run). */
  get readAhead(): SqliteWarmer | undefined {
    return this.sqliteLoad?.warmer;
  }

  /** SQLite: what the background checkpointer has done (undefined when it is not running). */
  get checkpoints(): SqliteCheckpointer['stats'] | undefined {
    return this.checkpointer?.stats;
  }

  /** Names of the migrations applied to this database, in order. */
  async appliedMigrations(): Promise<string[]> {
    return appliedMigrations(this.kind, this.requireRoot(), this.pool, this.opts.schema);
  }

  // --- internals -----------------------------------------------------------------------------

  /** A field no registered writer writes would be dropped without a word: the turn is refused instead. */
  private refuseUnwrittenFields(commit: TurnCommit): void {
    for (const field in commit) {
      if (!this.turnFields.has(field) && (commit as unknown as Record<string, unknown>)[field] !== undefined) {
        throw new StorageError(
          `Could not commit a turn: no turn writer for its "${field}" is registered with the store, so nothing of the turn was written.`,
          'Build the feature\'s repository on this store (it registers its turn writer) before turns carry its rows.',
        );
      }
    }
  }

  /** The turn's rows (with the batch writers'), then the transaction writers' rows, in the caller's transaction. */
  private async writeTurn(trx: Kysely<Database>, commit: TurnCommit, now: string): Promise<void> {
    if (this.pgBatch) await this.pgBatch.commitOneInTransaction(trx, commit, now);
    // The same better-sqlite3 connection Kysely's transaction is open on.
    else this.requireGroupCommit().writeRows(commit, now);
    for (const writer of this.writers.transaction) if (writer.applies(commit)) await writer.write(trx, commit, this.kind);
  }

  /** A read, again on the next connection when a pooled one was dead. */
  private async read<T>(op: string, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await fn(this.requireRoot());
      } catch (err) {
        if (n >= this.staleRetries || !isStaleConnectionError(err)) throw this.wrap(op, err);
      }
    }
  }

  /**
   * After a database restart every idle pooled connection is dead and each fails fast once; this many
   * retries always reach a fresh one. SQLite has no such connections.
   */
  private get staleRetries(): number {
    return this.kind === 'postgres' ? this.opts.poolSize : 0;
  }

  private requireGroupCommit(): SqliteGroupCommit {
    if (!this.groupCommit) throw new StorageError(this.closed ? 'The store is closed.' : 'The store is not open yet: call open() first.');
    return this.groupCommit;
  }

  private requireRoot(): Kysely<Database> {
    if (!this.root) throw new StorageError(this.closed ? 'The store is closed.' : 'The store is not open yet: call open() first.');
    return this.root;
  }

  private wrap(op: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (isConnectionError(err)) {
      return new StorageUnavailableError(`Could not ${op}: the database is unavailable (${message})`, undefined, { cause: err });
    }
    return new StorageError(`Could not ${op}: ${message}`, undefined, { cause: err });
  }
}
