/**
 * The one `Store` over Kysely, for SQLite (better-sqlite3, the default) and PostgreSQL (pg, for
 * several instances). Queries are written once; only the connection, the hot turn statements and a
 * few column types differ between the dialects.
 *
 * Turn discipline:
 * - In each process, `runExclusive` is a per-conversation mutex: the turns of a conversation run one
 *   after the other.
 * - Across PostgreSQL instances, concurrency is optimistic (as Bot Framework's own state storage does
 *   with eTags): `commitTurn` refuses a turn when the conversation already has that turn or a newer
 *   one (`ConcurrentTurnError`, the engine runs the turn again on what is stored) and an activity
 *   recorded before (`DuplicateActivityError`). No connection is held while a turn thinks.
 * - The hot statements (load a turn, commit a turn) are batched per pass of the event loop:
 *   ./sqlite-group-commit.ts and ./pg-turn-batch.ts.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { z } from 'zod';
import type { Locale } from '../engine/types';
import type { Logger } from '../log';
import {
  StorageError,
  StorageUnavailableError,
  isConnectionError,
  isStaleConnectionError,
} from './errors';
import { KeyedMutex } from './keyed-mutex';
import { SqliteCheckpointer } from './sqlite-checkpointer';
import { SqliteGroupCommit } from './sqlite-group-commit';
import { PgTurnBatch } from './pg-turn-batch';
import { withStatementCache } from './statement-cache';
import { migrationProvider } from './migrations/index';
import { migrationDatabase } from './pg-migration-db';
import { fromJson, toIso, type Database } from './schema';
import type { ConversationState, Store, TranscriptEntry, TurnCommit, TurnLoad } from './store';
import { turnWriters } from './turn-writers';
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
} as const;

/** SQLite's own checkpoint-on-commit, kept as a safety net behind the worker (pages; default 1000). */
const SQLITE_SAFETY_AUTOCHECKPOINT = 10_000;

/** Upper bound for one migration statement, including waiting for another instance's migration. */
const MIGRATION_TIMEOUT_MS = 5 * 60_000;

const localeSchema = z.enum(['en', 'uk']);
const timestampSchema = z.union([z.date(), z.string()]).transform(toIso);
const parentsSchema = z.array(z.object({ flowId: z.string(), flowVersion: z.number().int(), snapshot: z.unknown() }));
const conversationRow = z.object({
  key: z.string(),
  channel: z.string(),
  flow_id: z.string(),
  flow_version: z.coerce.number().int(),
  snapshot: z.unknown(),
  parents: z.unknown(),
  locale: z.string(),
  turn: z.coerce.number().int(),
  user_id: z.string(),
  created_at: timestampSchema,
  updated_at: timestampSchema,
});
const transcriptRow = z.object({ at: timestampSchema, sender: z.enum(['user', 'bot']), text: z.string() });

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  private root?: Kysely<Database>;
  private pool?: pg.Pool;
  private readonly local = new KeyedMutex();
  private readonly opts: Required<Omit<SqlStoreOptions, 'clock'>> & { clock: () => Date };
  private pruneTimer?: NodeJS.Timeout;
  private checkpointer?: SqliteCheckpointer;
  private sqlite?: BetterSqlite3.Database;
  private groupCommit?: SqliteGroupCommit;
  private sqliteLoadConversation?: BetterSqlite3.Statement;
  private sqliteLoadUserLocale?: BetterSqlite3.Statement;
  private pgBatch?: PgTurnBatch;
  private closed = false;

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

  /**
   * The database, for repositories of other areas (widened with `withTables<…>()`). Inside a
   * transaction use its `trx`, not `db`.
   */
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

  async open(): Promise<void> {
    if (this.root) return;
    this.closed = false;
    this.root = this.target.dialect === 'sqlite' ? this.openSqlite(this.target.path) : await this.openPostgres(this.target.url);
    try {
      await this.migrate();
      // Prepared after the migrations: the statements need the tables.
      if (this.sqlite) {
        const root = this.root;
        this.groupCommit = new SqliteGroupCommit(this.sqlite, (fn) => root.connection().execute(async () => fn()));
        // Two plain key lookups, not one statement joining them: a lookup by a unique key is planned
        // once, whereas the joined form is planned again for every new key once the database has
        // statistics (ANALYZE, `PRAGMA optimize`), which tripled a load's cost (README "Performance").
        this.sqliteLoadConversation = this.sqlite.prepare('select * from conversations where key = ?');
        this.sqliteLoadUserLocale = this.sqlite.prepare('select locale from user_locales where user_key = ?');
      } else {
        this.pgBatch = new PgTurnBatch({ pool: () => this.pool, staleRetries: this.staleRetries, wrap: (op, err) => this.wrap(op, err) });
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
    await this.checkpointer?.stop();
    this.checkpointer = undefined;
    const root = this.root;
    this.root = undefined;
    this.pool = undefined;
    this.sqlite = undefined;
    this.groupCommit = undefined;
    this.sqliteLoadConversation = undefined;
    this.sqliteLoadUserLocale = undefined;
    this.pgBatch = undefined;
    this.closed = true;
    await root?.destroy();
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
    return row ? this.toConversation(key, row) : undefined;
  }

  async loadTurn(input: { conversationKey: string; userKey: string; activityKey?: string }): Promise<TurnLoad> {
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
        stored = this.sqliteLoadConversation!.get(input.conversationKey) as Record<string, unknown> | undefined;
        userLocale = (this.sqliteLoadUserLocale!.get(input.userKey) as { locale: string } | undefined)?.locale;
      } catch (err) {
        throw this.wrap('load a turn', err);
      }
    }
    const recent = stored?.recent_activities;
    const locale = localeSchema.safeParse(userLocale);
    return {
      processed: input.activityKey !== undefined && hasRecentActivity(typeof recent === 'string' ? recent : undefined, input.activityKey),
      conversation: stored ? this.toConversation(input.conversationKey, stored) : undefined,
      userLocale: locale.success ? locale.data : undefined,
    };
  }

  private toConversation(key: string, row: unknown): ConversationState {
    const r = conversationRow.parse(row);
    const locale = localeSchema.safeParse(r.locale);
    const parents = parentsSchema.safeParse(safeJson(r.parents));
    if (!locale.success || !parents.success) this.logger.warn({ conversation: key }, 'stored conversation has an invalid locale or parents; using defaults');
    return {
      key: r.key,
      channel: r.channel,
      flowId: r.flow_id,
      flowVersion: r.flow_version,
      // An unreadable snapshot becomes null: the engine's validation restarts the conversation politely.
      snapshot: safeJson(r.snapshot),
      parents: parents.success ? parents.data : [],
      locale: locale.success ? locale.data : 'en',
      turn: r.turn,
      userId: r.user_id,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
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
    return rows.map((row) => {
      const r = transcriptRow.parse(row);
      return { at: r.at, from: r.sender, text: r.text };
    });
  }

  async getUserLocale(userKey: string): Promise<Locale | undefined> {
    const row = await this.read('load a user language', (db) =>
      db.selectFrom('user_locales').select('locale').where('user_key', '=', userKey).executeTakeFirst(),
    );
    const parsed = localeSchema.safeParse(row?.locale);
    return parsed.success ? parsed.data : undefined;
  }

  async commitTurn(commit: TurnCommit): Promise<void> {
    const now = this.opts.clock().toISOString();
    if (!turnWriters.some((w) => w.applies(commit))) {
      // The common turn: batched with the turns committing in the same pass of the event loop.
      if (this.pgBatch) return this.pgBatch.commit(commit, now);
      try {
        return await this.requireGroupCommit().commit(commit, now);
      } catch (err) {
        throw this.wrap('commit a turn', err);
      }
    }
    // A turn with rows for the turn writers (a case, a Webex notification): a transaction of its own.
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

  /** SQLite: what the background checkpointer has done (undefined when it is not running). */
  get checkpoints(): SqliteCheckpointer['stats'] | undefined {
    return this.checkpointer?.stats;
  }

  /** Names of the migrations applied to this database, in order. */
  async appliedMigrations(): Promise<string[]> {
    const infos = await this.migrator().getMigrations();
    return infos.filter((m) => m.executedAt).map((m) => m.name);
  }

  // --- internals -----------------------------------------------------------------------------

  /** The turn's rows, then the turn writers' rows, in the caller's transaction. */
  private async writeTurn(trx: Kysely<Database>, commit: TurnCommit, now: string): Promise<void> {
    if (this.pgBatch) await this.pgBatch.commitOneInTransaction(trx, commit, now);
    // The same better-sqlite3 connection Kysely's transaction is open on.
    else this.requireGroupCommit().writeRows(commit, now);
    for (const writer of turnWriters) if (writer.applies(commit)) await writer.write(trx, commit, this.kind);
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

  private openSqlite(path: string): Kysely<Database> {
    let database: BetterSqlite3.Database;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      database = new BetterSqlite3(path);
      database.pragma('journal_mode = WAL');
      database.pragma(`busy_timeout = ${Math.trunc(this.opts.busyTimeoutMs)}`);
      database.pragma('synchronous = NORMAL');
      database.pragma('foreign_keys = ON');
      if (path !== ':memory:' && this.opts.checkpointIntervalMs > 0) {
        database.pragma(`wal_autocheckpoint = ${SQLITE_SAFETY_AUTOCHECKPOINT}`);
        this.checkpointer = new SqliteCheckpointer(path, this.opts.checkpointIntervalMs, this.logger);
      }
    } catch (err) {
      throw new StorageUnavailableError(
        `Could not open the SQLite database at ${path}: ${(err as Error).message}`,
        'Check that the directory is writable, or set DATABASE_URL=sqlite:/a/writable/path.sqlite.',
        { cause: err },
      );
    }
    this.sqlite = database;
    // Prepared statements are kept: Kysely prepares every query it runs (README "Performance").
    return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  }

  private async openPostgres(url: string): Promise<Kysely<Database>> {
    const pool = new pg.Pool({
      ...this.pgConnection(url),
      max: this.opts.poolSize,
      idleTimeoutMillis: 30_000,
      statement_timeout: this.opts.statementTimeoutMs,
      // Client-side guard for a server that stops answering without closing the socket.
      query_timeout: this.opts.statementTimeoutMs + 2_000,
    });
    // Without these, a connection the server closes (restart, failover) would crash the process.
    pool.on('error', (err) => this.logger.warn({ err: { message: err.message } }, 'idle PostgreSQL connection closed; the pool will reconnect'));
    pool.on('connect', (client) => client.on('error', () => undefined));
    const where = describePg(url);
    try {
      await pool.query('select 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new StorageUnavailableError(
        `Could not connect to PostgreSQL at ${where}: ${(err as Error).message}`,
        `Is PostgreSQL running and reachable at ${where}, and do the user, password and database in DATABASE_URL exist? Unset DATABASE_URL to use the embedded SQLite file instead.`,
        { cause: err },
      );
    }
    try {
      await pool.query(`create schema if not exists "${this.opts.schema}"`);
    } catch (err) {
      // Instances starting together race on "if not exists": losing that race is fine.
      const code = (err as { code?: string }).code;
      if (code !== '23505' && code !== '42P06') {
        await pool.end().catch(() => undefined);
        throw new StorageError(
          `Could not create schema "${this.opts.schema}" in PostgreSQL at ${where}: ${(err as Error).message}`,
          `Create it once as an owner (create schema "${this.opts.schema}" authorization <bot user>) or set DATABASE_SCHEMA to one the bot user may use.`,
          { cause: err },
        );
      }
    }
    this.pool = pool;
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }

  private pgConnection(url: string): pg.PoolConfig {
    return {
      connectionString: url,
      connectionTimeoutMillis: this.opts.connectTimeoutMs,
      application_name: this.opts.applicationName,
      options: `-c search_path=${this.opts.schema}`,
      keepAlive: true,
    };
  }

  private migrator(pool = this.pool): Migrator {
    const root = this.requireRoot();
    return new Migrator({
      db: pool ? migrationDatabase(pool, this.opts.schema) : root,
      provider: migrationProvider(this.kind),
      ...(this.kind === 'postgres' ? { migrationTableSchema: this.opts.schema } : {}),
    });
  }

  private async migrate(): Promise<void> {
    // PostgreSQL: a connection of its own without the turn's statement timeout, since DDL and the
    // migration lock (held by whichever instance migrates first) may take longer than a turn.
    const pool = this.target.dialect === 'postgres' ? new pg.Pool({ ...this.pgConnection(this.target.url), max: 1, statement_timeout: MIGRATION_TIMEOUT_MS }) : undefined;
    pool?.on('error', () => undefined).on('connect', (client) => client.on('error', () => undefined));
    const { error, results } = await this.migrator(pool)
      .migrateToLatest()
      .finally(() => pool?.end());
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      throw new StorageError(
        `Database migration${failed ? ` ${failed}` : ''} failed: ${error instanceof Error ? error.message : String(error)}`,
        'The database was left at the last migration that succeeded; fix the cause and start again.',
        { cause: error },
      );
    }
    const applied = results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
    if (applied.length) this.logger.info({ migrations: applied }, 'database migrated');
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

function safeJson(value: unknown): unknown {
  try {
    return fromJson(value);
  } catch {
    return null;
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

function describePg(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}/${decodeURIComponent(u.pathname.slice(1)) || '(default database)'}`;
  } catch {
    return redactUrl(url);
  }
}
