/**
 * Issue 15, item 4: `GET /readyz` answers 503 while the store does not accept writes and 200 when it
 * does; `GET /healthz` stays liveness (200 while the process answers). Over real HTTP:
 * - SQLite: the running bot's own connection turned read-only (`PRAGMA query_only`: SQLite then
 *   refuses every write with SQLITE_READONLY, as for a read-only file), and back; and the bot's
 *   database file reopened read-only (`readonly: true`), and read-write again.
 * - PostgreSQL: the bot's schema dropped under it and the probe's connection terminated, then migrated again.
 * A success is trusted for a second, so a change shows within a second: the test asks until it does.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildServer, type App } from '../../src/server';
import { SqlStore } from '../../src/storage/index';
import { WriteProbe } from '../../src/storage/write-probe';
import { Person, startBot } from '../channels/botframework/harness';
import { dropPostgresSchema, silentLogger, stopAfterTest, TEST_DATABASE_URL, uniqueName, useTempDir } from '../support';

const dir = useTempDir('pce-ready-', 'all');
let server: App | undefined;

afterEach(async () => {
  await server?.close(2_000);
  server = undefined;
});

async function get(url: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Asks `/readyz` until it answers `status` (no timing asserted: a cached success lasts a second). */
async function readyzBecomes(url: string, status: number): Promise<Record<string, unknown>> {
  for (let i = 0; i < 400; i++) {
    const answer = await get(url, '/readyz');
    if (answer.status === status) return answer.body;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`/readyz never answered ${status}`);
}

describe('GET /readyz on SQLite', () => {
  it('answers 503 while the bot’s connection refuses writes, /healthz 200 all along, and 200 again once writes work', async () => {
    const { url, app: application } = stopAfterTest(await startBot(dir.join('query-only.sqlite')));
    expect(await get(url, '/readyz')).toEqual({ status: 200, body: { status: 'ready', storage: 'sqlite' } });

    await sql`pragma query_only = on`.execute((application.store as SqlStore).db);
    expect(await readyzBecomes(url, 503)).toEqual({ status: 'not_ready', reason: 'the store does not accept writes', storage: 'sqlite' });
    expect(await get(url, '/healthz')).toEqual({ status: 200, body: { status: 'ok', storage: 'sqlite' } });
    // What /readyz tells is what a person meets: the turn cannot be stored, and gets the apology.
    const person = new Person(url, { channelId: 'emulator', locale: 'en-US' });
    const { replies } = await person.say('hello');
    expect(replies.map((r) => r.text)).toEqual([application.translator.t('en', 'botframework:error.apology')]);

    await sql`pragma query_only = off`.execute((application.store as SqlStore).db);
    // A failure is never cached: the first request after writes work again is 200.
    expect(await get(url, '/readyz')).toEqual({ status: 200, body: { status: 'ready', storage: 'sqlite' } });
    expect((await person.say('hello')).replies[0]?.text).not.toBe(application.translator.t('en', 'botframework:error.apology'));
  });

  it('answers 503 for the bot’s database file opened read-only, 200 opened read-write', async () => {
    const path = dir.join('reopened.sqlite');
    const store = new SqlStore({ dialect: 'sqlite', path }, silentLogger);
    await store.open(); // creates the file with every migration
    await store.close();

    for (const [readonly, status] of [
      [true, 503],
      [false, 200],
    ] as const) {
      const database = new BetterSqlite3(path, { readonly });
      const db = new Kysely<object>({ dialect: new SqliteDialect({ database }) });
      try {
        server = buildServer({ logger: silentLogger, maxBodyBytes: 1024, ready: () => new WriteProbe({ db: () => db, logger: silentLogger }).check() });
        const { url } = await server.listen(0);
        expect((await get(url, '/readyz')).status).toBe(status);
        expect((await get(url, '/healthz')).status).toBe(200);
      } finally {
        await server?.close(2_000);
        server = undefined;
        await db.destroy();
      }
    }
  });
});

describe('GET /readyz on PostgreSQL', () => {
  const schema = uniqueName('readyz');
  afterAll(() => dropPostgresSchema(schema));

  it('answers 503 once the bot’s schema is gone and its probing connection cut, and 200 once it is migrated again', async () => {
    const { url } = stopAfterTest(await startBot(dir.join('unused.sqlite'), { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema }));
    expect(await get(url, '/readyz')).toEqual({ status: 200, body: { status: 'ready', storage: 'postgres' } });

    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`drop schema "${schema}" cascade`);
      // The connection that ran the probe is cut as well (only it: other suites share this database).
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and query like 'insert into "store_write_probe"%'`);
    } finally {
      await admin.end();
    }
    expect((await readyzBecomes(url, 503)).status).toBe('not_ready');
    expect((await get(url, '/healthz')).status).toBe(200);

    // The schema back (what a restore or a re-run of the migrations does): ready at the next request.
    const migrator = new SqlStore({ dialect: 'postgres', url: TEST_DATABASE_URL }, silentLogger, { schema, poolSize: 1 });
    await migrator.open();
    await migrator.close();
    expect(await get(url, '/readyz')).toEqual({ status: 200, body: { status: 'ready', storage: 'postgres' } });
  });
});
