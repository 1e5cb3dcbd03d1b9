/**
 * Opening the database and bringing its schema up to date, for ./sql-store.ts: the SQLite file with
 * its pragmas and background checkpointer, the PostgreSQL pool and schema, and the migrations (one
 * ordered list for both dialects, ./migrations/index.ts). Failures are named errors that say where
 * the database is (without credentials) and what to check.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from '../log';
import { StorageError, StorageUnavailableError } from './errors';
import { migrationProvider, type StoreDialect } from './migrations/index';
import { migrationDatabase } from './pg-migration-db';
import { namingPool } from './pg-named-statements';
import type { Database } from './schema';
import { SqliteCheckpointer } from './sqlite-checkpointer';
import { withStatementCache } from './statement-cache';

/** SQLite's own checkpoint-on-commit, kept as a safety net behind the worker (pages; default 1000). */
const SQLITE_SAFETY_AUTOCHECKPOINT = 10_000;

/** Upper bound for one migration statement, including waiting for another instance's migration. */
const MIGRATION_TIMEOUT_MS = 5 * 60_000;

export interface SqliteSettings {
  /** How long a writer waits for the file lock. */
  busyTimeoutMs: number;
  /** How often a worker thread checkpoints the WAL (0: SQLite checkpoints on commit, on the event loop). */
  checkpointIntervalMs: number;
  /** The page cache, MiB (0: SQLite's own, 16 MB as better-sqlite3 builds it). */
  sqliteCacheMiB: number;
}

export interface OpenSqlite {
  db: Kysely<Database>;
  sqlite: BetterSqlite3.Database;
  /** Running for a file (not `:memory:`) with a checkpoint interval. */
  checkpointer?: SqliteCheckpointer;
}

export function openSqlite(path: string, settings: SqliteSettings, logger: Logger): OpenSqlite {
  let database: BetterSqlite3.Database;
  let checkpointer: SqliteCheckpointer | undefined;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    database = new BetterSqlite3(path);
    database.pragma('journal_mode = WAL');
    database.pragma(`busy_timeout = ${Math.trunc(settings.busyTimeoutMs)}`);
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    if (settings.sqliteCacheMiB > 0) database.pragma(`cache_size = -${Math.trunc(settings.sqliteCacheMiB * 1024)}`);
    if (path !== ':memory:' && settings.checkpointIntervalMs > 0) {
      database.pragma(`wal_autocheckpoint = ${SQLITE_SAFETY_AUTOCHECKPOINT}`);
      checkpointer = new SqliteCheckpointer(path, settings.checkpointIntervalMs, logger);
    }
  } catch (err) {
    throw new StorageUnavailableError(
      `Could not open the SQLite database at ${path}: ${(err as Error).message}`,
      'Check that the directory is writable, or set DATABASE_URL=sqlite:/a/writable/path.sqlite.',
      { cause: err },
    );
  }
  // Prepared statements are kept: Kysely prepares every query it runs (README "Performance").
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) }), sqlite: database, checkpointer };
}

export interface PostgresSettings {
  poolSize: number;
  /** The schema holding the tables (created if missing). */
  schema: string;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  /** How long to wait for a new connection before failing. */
  connectTimeoutMs: number;
  /** Server-side limit for one statement, including waiting for a conversation lock. */
  statementTimeoutMs: number;
}

/**
 * The turn's load and commit statements (./pg-turn-batch.ts) run on connections of their own that
 * always use the generic plan of a named statement. In the default `auto` mode the server planned the
 * commit again on 73 % of its calls and the load on 40 % (pg_stat_statements with track_planning,
 * issue 19): a custom plan looks cheaper whenever the batch's empty parts fold away, so it keeps being
 * chosen, at ~0.56 ms of planning per commit, a fifth of the server's CPU per turn. Their generic
 * plans read every row by key (test/storage/pg-turn-plans.test.ts); other statements keep `auto`,
 * since a generic plan cannot use a partial index for a parameter (the kept replies' pending index).
 */
const TURN_CONNECTION_OPTIONS = '-c plan_cache_mode=force_generic_plan';

export interface OpenPostgres {
  db: Kysely<Database>;
  pool: pg.Pool;
  /** The turn's own connections (TURN_CONNECTION_OPTIONS), up to the same pool size. */
  turnPool: pg.Pool;
}

function newPool(url: string, settings: PostgresSettings, logger: Logger, options = ''): pg.Pool {
  const config = pgConnection(url, settings);
  const pool = new pg.Pool({
    ...config,
    ...(options ? { options: `${config.options} ${options}` } : {}),
    max: settings.poolSize,
    idleTimeoutMillis: 30_000,
    statement_timeout: settings.statementTimeoutMs,
    // Client-side guard for a server that stops answering without closing the socket.
    query_timeout: settings.statementTimeoutMs + 2_000,
  });
  // Without these, a connection the server closes (restart, failover) would crash the process.
  pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'idle PostgreSQL connection closed; the pool will reconnect'));
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export async function openPostgres(url: string, settings: PostgresSettings, logger: Logger): Promise<OpenPostgres> {
  const pool = newPool(url, settings, logger);
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
    await pool.query(`create schema if not exists "${settings.schema}"`);
  } catch (err) {
    // Instances starting together race on "if not exists": losing that race is fine.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') {
      await pool.end().catch(() => undefined);
      throw new StorageError(
        `Could not create schema "${settings.schema}" in PostgreSQL at ${where}: ${(err as Error).message}`,
        `Create it once as an owner (create schema "${settings.schema}" authorization <bot user>) or set DATABASE_SCHEMA to one the bot user may use.`,
        { cause: err },
      );
    }
  }
  // Kysely's queries with a registered text run as named statements (./pg-named-statements.ts).
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: namingPool(pool) }) }), pool, turnPool: newPool(url, settings, logger, TURN_CONNECTION_OPTIONS) };
}

function pgConnection(url: string, settings: Pick<PostgresSettings, 'schema' | 'applicationName' | 'connectTimeoutMs'>): pg.PoolConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    application_name: settings.applicationName,
    options: `-c search_path=${settings.schema}`,
    keepAlive: true,
  };
}

/** What the migrations run on: the store's database, and for PostgreSQL where and as whom to connect. */
export type MigrationTarget =
  | { dialect: 'sqlite'; db: Kysely<Database> }
  | { dialect: 'postgres'; db: Kysely<Database>; url: string; settings: Pick<PostgresSettings, 'schema' | 'applicationName' | 'connectTimeoutMs'> };

function migrator(dialect: StoreDialect, db: Kysely<Database>, pgMigrationPool?: pg.Pool, schema?: string): Migrator {
  return new Migrator({
    db: pgMigrationPool && schema ? migrationDatabase(pgMigrationPool, schema) : db,
    provider: migrationProvider(dialect),
    ...(dialect === 'postgres' ? { migrationTableSchema: schema } : {}),
  });
}

/** Runs the migrations not yet applied, in order; logs the ones it applied. */
export async function migrate(target: MigrationTarget, logger: Logger): Promise<void> {
  // PostgreSQL: a connection of its own without the turn's statement timeout, since DDL and the
  // migration lock (held by whichever instance migrates first) may take longer than a turn.
  const pool =
    target.dialect === 'postgres' ? new pg.Pool({ ...pgConnection(target.url, target.settings), max: 1, statement_timeout: MIGRATION_TIMEOUT_MS }) : undefined;
  pool?.on('error', () => undefined).on('connect', (client) => client.on('error', () => undefined));
  const schema = target.dialect === 'postgres' ? target.settings.schema : undefined;
  const { error, results } = await migrator(target.dialect, target.db, pool, schema)
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
  if (applied.length) logger.info({ migrations: applied }, 'database migrated');
}

/** Names of the migrations applied to the database, in order. */
export async function appliedMigrations(dialect: StoreDialect, db: Kysely<Database>, pool?: pg.Pool, schema?: string): Promise<string[]> {
  const infos = await migrator(dialect, db, pool, schema).getMigrations();
  return infos.filter((m) => m.executedAt).map((m) => m.name);
}

export function redactUrl(url: string): string {
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
