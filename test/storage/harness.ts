/** Real databases for the storage suites: a temp SQLite file, or a unique PostgreSQL schema per suite. */
import pg from 'pg';
import { onTestFinished } from 'vitest';
import { SqlStore, createStore, type SqlStoreOptions } from '../../src/storage/index';
import type { ConversationState, TurnCommit } from '../../src/storage/store';
import { silentLogger, tempDir, TEST_DATABASE_URL, uniqueName } from '../support';

export interface StoreHarness {
  readonly dialect: 'sqlite' | 'postgres';
  /** A new store on the same database (a restart, or a second bot instance), opened. */
  open(options?: SqlStoreOptions): Promise<SqlStore>;
  /** The same, not opened yet. */
  create(options?: SqlStoreOptions): SqlStore;
  /** Closes every store opened here and removes the database. */
  cleanup(): Promise<void>;
}

export function sqliteHarness(): StoreHarness & { path: string } {
  const dir = tempDir('store-test-');
  const path = dir.join('nested', 'bot.sqlite');
  const opened: SqlStore[] = [];
  return {
    dialect: 'sqlite',
    path,
    create(options) {
      const store = new SqlStore({ dialect: 'sqlite', path }, silentLogger, options);
      opened.push(store);
      return store;
    },
    async open(options) {
      const store = this.create(options);
      await store.open();
      return store;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      dir.remove();
    },
  };
}

/**
 * A SQLite store in memory (`sqlite::memory:`), opened: for tests that need a store and no file.
 * Closed when the test that asked for it ends (also when asked for in a `beforeEach`).
 */
export async function memoryStore(options?: SqlStoreOptions): Promise<SqlStore> {
  const store = createStore('sqlite::memory:', silentLogger, options);
  await store.open();
  onTestFinished(() => store.close());
  return store;
}

export function postgresHarness(): StoreHarness & { schema: string; admin: () => pg.Client } {
  const schema = uniqueName('store_test');
  const opened: SqlStore[] = [];
  let admin: pg.Client | undefined;
  return {
    dialect: 'postgres',
    schema,
    admin: () => {
      if (!admin) throw new Error('open a store first');
      return admin;
    },
    create(options) {
      const store = new SqlStore({ dialect: 'postgres', url: TEST_DATABASE_URL }, silentLogger, {
        schema,
        applicationName: schema,
        poolSize: 4,
        ...options,
      });
      opened.push(store);
      return store;
    },
    async open(options) {
      if (!admin) {
        admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await admin.connect();
      }
      const store = this.create(options);
      await store.open();
      return store;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      if (!admin) {
        admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await admin.connect();
      }
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    },
  };
}

let clock = Date.parse('2026-03-01T10:00:00.000Z');
/** Distinct, increasing ISO timestamps (no wall clock in assertions). */
export function nextIso(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

export function conversation(key: string, turn: number, overrides: Partial<ConversationState> = {}): ConversationState {
  const at = nextIso();
  return {
    key,
    channel: key.split(':')[0] ?? 'test',
    flowId: 'provisioning-contact',
    flowVersion: 3,
    snapshot: { status: 'active', value: { N2: 'ask' }, context: { locale: 'uk', attempts: turn, note: 'Пошта «нова»' }, historyValue: {} },
    locale: 'uk',
    parents: [],
    turn,
    userId: 'user-1',
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

export function turnCommit(key: string, turn: number, extra: Partial<TurnCommit> = {}): TurnCommit {
  const at = nextIso();
  return {
    conversation: conversation(key, turn),
    transcript: [
      { at, from: 'user', text: `user turn ${turn}` },
      { at, from: 'bot', text: `bot turn ${turn}` },
    ],
    ...extra,
  };
}

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
