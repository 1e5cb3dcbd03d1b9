/**
 * Migration 0008 drops the funnel table's index by conversation. A store that already holds funnel
 * events (schema of 0007) is upgraded at open, keeps its events, and reports the same numbers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFunnelEvents } from '../../src/funnel/query';
import { buildReport } from '../../src/funnel/report';
import { createLogger } from '../../src/log';
import { migrationProvider } from '../../src/storage/migrations/index';
import { migrationDatabase } from '../../src/storage/pg-migration-db';
import { createStore, type SqlStore } from '../../src/storage/index';

const logger = createLogger('silent');
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WINDOW = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z') };
const BEFORE_0008 = '0007-bot-conversations';

/** Rows as the bot stored them before 0008: a run resolved in the Spam folder, a run abandoned, a run before the window. */
const STORED = [
  ['2026-11-19T23:00:00.000Z', 't:old', 'started', 'entry', null],
  ['2026-11-19T23:00:00.000Z', 't:old', 'turn', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:1', 'started', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:2', 'started', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:1', 'step_entered', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:2', 'step_entered', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:1', 'turn', 'entry', null],
  ['2026-11-20T09:00:00.000Z', 't:2', 'turn', 'entry', null],
  ['2026-11-20T09:01:00.000Z', 't:old', 'turn', 'entry', null],
  ['2026-11-20T09:01:00.000Z', 't:1', 'answer', 'spamCheck', 'found'],
  ['2026-11-20T09:01:00.000Z', 't:1', 'step_entered', 'emailFound', null],
  ['2026-11-20T09:01:00.000Z', 't:1', 'outcome', 'emailFound', 'resolved'],
  ['2026-11-20T09:01:00.000Z', 't:1', 'turn', 'emailFound', null],
] as const;

const dialects = [
  {
    name: 'SQLite',
    async at0007() {
      const dir = mkdtempSync(join(tmpdir(), 'funnel-upgrade-'));
      const file = join(dir, 'bot.sqlite');
      // Migrations see no table types (as in src/storage/migrations/types.ts).
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
      await migrateTo0007(new Migrator({ db, provider: migrationProvider('sqlite') }));
      return {
        db,
        end: () => db.destroy(),
        store: () => createStore(`sqlite:${file}`, logger),
        indexes: async (store: SqlStore) =>
          (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'funnel_events'`.execute(store.db)).rows.map((r) => r.name),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL',
    async at0007() {
      const schema = `funnel_up_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      const pool = new pg.Pool({ connectionString: PG_URL, max: 1, options: `-c search_path=${schema}` });
      await pool.query(`create schema ${schema}`);
      const db = migrationDatabase(pool, schema);
      await migrateTo0007(new Migrator({ db, provider: migrationProvider('postgres'), migrationTableSchema: schema }));
      return {
        db,
        end: () => db.destroy(),
        store: () => createStore({ DATABASE_URL: PG_URL, DATABASE_POOL_SIZE: 2, DATABASE_SCHEMA: schema }, logger),
        indexes: async (store: SqlStore) =>
          (await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = ${schema} and tablename = 'funnel_events'`.execute(store.db)).rows.map(
            (r) => r.name,
          ),
        cleanup: async (store: SqlStore) => {
          await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
        },
      };
    },
  },
];

async function migrateTo0007(migrator: Migrator): Promise<void> {
  const { error } = await migrator.migrateTo(BEFORE_0008);
  if (error) throw error;
}

describe.each(dialects)('upgrading a store with funnel events over $name', ({ at0007 }) => {
  let store: SqlStore | undefined;
  let cleanup: ((s: SqlStore) => Promise<void>) | undefined;

  afterAll(async () => {
    if (store) await cleanup?.(store);
    await store?.close();
  });

  it('keeps the stored events and reports the same numbers without the index by conversation', async () => {
    const old = await at0007();
    cleanup = old.cleanup;
    await old.db
      .insertInto('funnel_events')
      .values(STORED.map(([at, key, kind, step, value]) => ({ at, conversation_key: key, channel: 'msteams', locale: 'en', mode: 'self', kind, step, value })))
      .execute();
    await old.end();

    store = old.store();
    await store.open();
    expect(await store.appliedMigrations()).toContain('0008-funnel-events-without-conversation-index');
    expect(await old.indexes(store)).not.toContain('funnel_events_conversation');

    const report = buildReport(await loadFunnelEvents(store.db, WINDOW), { ...WINDOW, now: new Date('2026-11-20T12:00:00Z'), idleMs: 30 * 60_000 });
    expect(report.total.conversations).toBe(2);
    expect(report.total.endings).toMatchObject({ resolved_spam_check: 1, abandoned: 1 });
    expect(report.total.reached).toEqual([
      { step: 'entry', conversations: 2 },
      { step: 'emailFound', conversations: 1 },
    ]);
    expect(report.total.medianTurns).toBe(1.5);
    expect(report.total.deflectionRate).toBe(0.5);
  });
});
