/**
 * Migration 0009 moves re-delivery marks into the conversation row. A store holding conversations
 * from before it (schema of 0008) is upgraded at open: its conversations go on turn by turn, a
 * re-delivered activity of a turn after the upgrade is refused, and the old marks table is still
 * there for instances of the previous release during a rolling upgrade.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log';
import { DuplicateActivityError } from '../../src/storage/errors';
import { migrationProvider } from '../../src/storage/migrations/index';
import { migrationDatabase } from '../../src/storage/pg-migration-db';
import { createStore, type SqlStore } from '../../src/storage/index';
import { turnCommit } from './harness';

const logger = createLogger('silent');
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BEFORE_0009 = '0008-funnel-events-without-conversation-index';
const KEY = 'msteams:upgraded-conversation';

const dialects = [
  {
    name: 'SQLite',
    async at0008() {
      const dir = mkdtempSync(join(tmpdir(), 'recent-upgrade-'));
      const file = join(dir, 'bot.sqlite');
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
      await migrateTo0008(new Migrator({ db, provider: migrationProvider('sqlite') }));
      return {
        db,
        end: () => db.destroy(),
        store: () => createStore(`sqlite:${file}`, logger),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL',
    async at0008() {
      const schema = `recent_up_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      const pool = new pg.Pool({ connectionString: PG_URL, max: 1, options: `-c search_path=${schema}` });
      await pool.query(`create schema ${schema}`);
      const db = migrationDatabase(pool, schema);
      await migrateTo0008(new Migrator({ db, provider: migrationProvider('postgres'), migrationTableSchema: schema }));
      return {
        db,
        end: () => db.destroy(),
        store: () => createStore({ DATABASE_URL: PG_URL, DATABASE_POOL_SIZE: 2, DATABASE_SCHEMA: schema }, logger),
        cleanup: async (store: SqlStore) => {
          await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
        },
      };
    },
  },
];

async function migrateTo0008(migrator: Migrator): Promise<void> {
  const { error } = await migrator.migrateTo(BEFORE_0009);
  if (error) throw error;
}

describe.each(dialects)('upgrading stored conversations to recent activities over $name', ({ at0008 }) => {
  let store: SqlStore | undefined;
  let cleanup: ((s: SqlStore) => Promise<void>) | undefined;

  afterAll(async () => {
    if (store) await cleanup?.(store);
    await store?.close();
  });

  it('goes on with a conversation stored before 0009 and refuses a re-delivery after it', async () => {
    const old = await at0008();
    cleanup = old.cleanup;
    const c = turnCommit(KEY, 3).conversation;
    await old.db
      .insertInto('conversations')
      .values({
        key: c.key,
        channel: c.channel,
        flow_id: c.flowId,
        flow_version: c.flowVersion,
        snapshot: JSON.stringify(c.snapshot),
        parents: JSON.stringify(c.parents),
        locale: c.locale,
        turn: 3,
        user_id: c.userId,
        created_at: c.createdAt,
        updated_at: c.updatedAt,
      })
      .execute();
    // A mark of today (the store prunes marks older than 7 days at open).
    await old.db.insertInto('processed_activities').values({ key: `${KEY}:a3`, created_at: new Date().toISOString() }).execute();
    await old.end();

    store = old.store();
    await store.open();
    expect(await store.appliedMigrations()).toContain('0009-recent-activities-in-conversations');
    const loaded = await store.loadTurn({ conversationKey: KEY, userKey: 'msteams:someone', activityKey: `${KEY}:a4` });
    expect(loaded.processed).toBe(false);
    expect(loaded.conversation?.turn).toBe(3);

    await store.commitTurn(turnCommit(KEY, 4, { activityKey: `${KEY}:a4` }));
    expect(await store.isProcessed(KEY, `${KEY}:a4`)).toBe(true);
    await expect(store.commitTurn(turnCommit(KEY, 5, { activityKey: `${KEY}:a4` }))).rejects.toBeInstanceOf(DuplicateActivityError);
    expect((await store.loadConversation(KEY))?.turn).toBe(4);
    // The old table stays for instances of the previous release; the store only prunes it.
    const marks = await sql<{ key: string }>`select key from processed_activities`.execute(store.db);
    expect(marks.rows.map((r) => r.key)).toEqual([`${KEY}:a3`]);
  });
});
