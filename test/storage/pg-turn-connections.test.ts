/**
 * The turn's load and commit run on connections of their own that always use a named statement's
 * generic plan (src/storage/connect.ts): in PostgreSQL's `auto` mode the server planned the commit
 * again on most calls. Everything else keeps `auto` (a generic plan cannot use the kept replies'
 * partial index for a parameter), and both sets of connections work in the store's schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type OpenPostgres } from '../../src/storage/connect';
import { createStore } from '../../src/storage';
import { dropPostgresSchema, silentLogger, TEST_DATABASE_URL, uniqueName } from '../support';

const schema = uniqueName('turn_connections');
let opened: OpenPostgres;

const setting = async (pool: OpenPostgres['pool'], name: string) => Object.values((await pool.query(`show ${name}`)).rows[0] as Record<string, string>)[0];

describe('PostgreSQL connections of the turn', () => {
  beforeAll(async () => {
    opened = await openPostgres(TEST_DATABASE_URL, { poolSize: 2, schema, applicationName: 'pce-test', connectTimeoutMs: 5_000, statementTimeoutMs: 10_000 }, silentLogger);
  });
  afterAll(async () => {
    await Promise.all([opened.db.destroy(), opened.turnPool.end()]);
    await dropPostgresSchema(schema);
  });

  it('use generic plans for named statements, the other connections the server default, both in the schema', async () => {
    expect(await setting(opened.turnPool, 'plan_cache_mode')).toBe('force_generic_plan');
    expect(await setting(opened.pool, 'plan_cache_mode')).toBe('auto');
    expect(await setting(opened.turnPool, 'search_path')).toBe(schema);
    expect(await setting(opened.pool, 'search_path')).toBe(schema);
  });

  it('carry the turns of a store, and close with it', async () => {
    const store = createStore({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema } as never, silentLogger);
    await store.open();
    const loaded = await store.loadTurn({ conversationKey: 'msteams:c1', userKey: 'msteams:u1', activityKey: 'msteams:a1' });
    expect(loaded).toMatchObject({ processed: false, conversation: undefined });
    await store.close();
    await expect(store.loadTurn({ conversationKey: 'msteams:c1', userKey: 'msteams:u1' })).rejects.toThrow();
  });
});
