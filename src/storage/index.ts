/**
 * The storage area's public surface: `createStore(config or DATABASE_URL, logger)` gives the SQLite
 * store (default) or the PostgreSQL store; call `open()` before use (it connects and migrates) and
 * `close()` at shutdown. Features keep their tables' repositories beside them and reach their tables
 * through `store.db`; rows that belong to a turn come from the turn writers they register.
 */
import type { Config } from '../config';
import type { Logger } from '../log';
import { SqlStore, type SqlStoreOptions } from './sql-store';
import { parseDatabaseUrl } from './url';

export type StorageConfig = Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'> & { DATABASE_SCHEMA?: string; SQLITE_CACHE_MB?: number };

export function createStore(configOrUrl: StorageConfig | string | undefined, logger: Logger, options: SqlStoreOptions = {}): SqlStore {
  const config: Partial<StorageConfig> = typeof configOrUrl === 'object' ? configOrUrl : { DATABASE_URL: configOrUrl };
  return new SqlStore(parseDatabaseUrl(config.DATABASE_URL), logger, {
    poolSize: config.DATABASE_POOL_SIZE,
    schema: config.DATABASE_SCHEMA,
    ...(config.SQLITE_CACHE_MB ? { sqliteCacheMiB: config.SQLITE_CACHE_MB } : {}),
    ...options,
  });
}

export { SqlStore, type SqlStoreOptions } from './sql-store';
export { parseDatabaseUrl, DEFAULT_SQLITE_PATH, type StoreTarget } from './url';
export * from './errors';
export type { Store, ConversationState, TranscriptEntry, TurnCommit, TurnLoad, FunnelEvent } from './store';
export type { TurnWriter, TransactionTurnWriter, BatchTurnWriter, BatchedTurn } from './turn-writers';
export type { Database } from './schema';
export { toIso, fromJson } from './schema';
