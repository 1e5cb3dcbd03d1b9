/**
 * The storage contract and the multi-instance guarantees against a real PostgreSQL
 * (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test), each suite in its own schema.
 * These never skip: without PostgreSQL they fail, loudly.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConcurrentTurnError,
  DuplicateActivityError,
  StorageError,
  StorageUnavailableError,
  createStore,
  type SqlStore,
} from '../../src/storage/index';
import { storeContract } from './store-contract';
import { postgresHarness, turnCommit } from './harness';
import { silentLogger, TEST_DATABASE_URL, uniqueName } from '../support';

describe('PostgreSQL store', () => {
  storeContract(postgresHarness);
});

describe('PostgreSQL: two bot instances on one database', () => {
  const harness = postgresHarness();
  let a: SqlStore;
  let b: SqlStore;

  beforeAll(async () => {
    a = await harness.open({ applicationName: `${harness.schema}_a` });
    b = await harness.open({ applicationName: `${harness.schema}_b` });
  });
  afterAll(() => harness.cleanup());

  const key = () => `msteams:${uniqueName('conv')}`;

  /**
   * A turn as the engine runs it: load, think, commit; run again when the other instance committed a
   * turn of the conversation first (`ConcurrentTurnError`); a `DuplicateActivityError` means the other
   * instance handled this very activity. Returns what became of the activity.
   */
  async function engineTurn(store: SqlStore, k: string, activityKey?: string): Promise<'handled' | 'duplicate'> {
    return store.runExclusive(k, async () => {
      for (let attempt = 1; ; attempt++) {
        const loaded = await store.loadTurn({ conversationKey: k, userKey: `${k}:user`, activityKey });
        if (loaded.processed) return 'duplicate';
        await sql`select pg_sleep(0.005)`.execute(store.db);
        try {
          await store.commitTurn(turnCommit(k, (loaded.conversation?.turn ?? 0) + 1, { activityKey }));
          return 'handled';
        } catch (err) {
          if (err instanceof DuplicateActivityError) return 'duplicate';
          if (!(err instanceof ConcurrentTurnError) || attempt >= 20) throw err;
        }
      }
    });
  }

  it('lets one of two instances that raced for a turn commit it; the other is refused and writes nothing', async () => {
    const k = key();
    await a.commitTurn(turnCommit(k, 1));
    const results = await Promise.allSettled([
      a.commitTurn(turnCommit(k, 2, { activityKey: `${k}:from-a` })),
      b.commitTurn(turnCommit(k, 2, { activityKey: `${k}:from-b` })),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected');
    expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(ConcurrentTurnError);
    const winner = results[0]!.status === 'fulfilled' ? 'a' : 'b';
    const loser = winner === 'a' ? 'b' : 'a';
    expect((await a.loadConversation(k))?.turn).toBe(2);
    expect(await a.loadTranscript(k)).toHaveLength(4);
    expect(await a.isProcessed(k, `${k}:from-${winner}`)).toBe(true);
    expect(await a.isProcessed(k, `${k}:from-${loser}`)).toBe(false);
  });

  it('keeps a conversation whole when its turns alternate and race between instances', async () => {
    const k = key();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => engineTurn(i % 2 === 0 ? a : b, k, `${k}:${i}`)));
    expect(results.every((r) => r === 'handled')).toBe(true);
    expect((await a.loadConversation(k))?.turn).toBe(12);
    expect(await b.loadTranscript(k)).toHaveLength(24);
  });

  it('handles an activity delivered to both instances once', async () => {
    const k = key();
    await a.commitTurn(turnCommit(k, 1));
    const activityKey = `${k}:activity-1`;
    const results = await Promise.all([engineTurn(a, k, activityKey), engineTurn(b, k, activityKey), engineTurn(a, k, activityKey), engineTurn(b, k, activityKey)]);
    expect(results.filter((r) => r === 'handled')).toHaveLength(1);
    expect((await a.loadConversation(k))?.turn).toBe(2);
    expect(await a.loadTranscript(k)).toHaveLength(4);
  });

  it('refuses a commit that would overwrite a newer turn made by the other instance', async () => {
    const k = key();
    await a.commitTurn(turnCommit(k, 1));
    await b.commitTurn(turnCommit(k, 2));
    await expect(a.commitTurn(turnCommit(k, 2))).rejects.toBeInstanceOf(ConcurrentTurnError);
  });

  it('loads the turns of many conversations that start together in one statement', async () => {
    const keys = Array.from({ length: 10 }, () => key());
    await a.commitTurn(turnCommit(keys[0]!, 4, { activityKey: `${keys[0]}:seen` }));
    const before = a.pgBatches!.loadStatements;
    const loaded = await Promise.all(keys.map((k) => a.loadTurn({ conversationKey: k, userKey: `${k}:u`, activityKey: `${k}:seen` })));
    expect(a.pgBatches!.loadStatements - before).toBe(1);
    expect(loaded[0]).toMatchObject({ processed: true, conversation: { key: keys[0], turn: 4 } });
    expect(loaded.slice(1).every((l) => !l.processed && l.conversation === undefined)).toBe(true);
  });
});

describe('PostgreSQL: connections lost and databases away', () => {
  const harness = postgresHarness();
  afterAll(() => harness.cleanup());

  async function terminate(applicationName: string): Promise<number> {
    // pg_terminate_backend only in the select list: a WHERE clause may evaluate it for every backend.
    const { rows } = await harness.admin().query<{ terminated: boolean }>(
      'select pg_terminate_backend(pid) as terminated from pg_stat_activity where application_name = $1',
      [applicationName],
    );
    return rows.filter((r) => r.terminated).length;
  }

  it('keeps acknowledged data and serves the next turn after every connection was killed', async () => {
    const app = uniqueName('kill');
    const store = await harness.open({ applicationName: app });
    const k = `msteams:${uniqueName('conv')}`;
    await store.runExclusive(k, () => store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:1` })));
    await Promise.all([store.isProcessed('warm-1', 'a'), store.isProcessed('warm-2', 'a')]); // several pooled connections
    expect(await terminate(app)).toBeGreaterThan(0);

    expect((await store.loadConversation(k))?.turn).toBe(1);
    await store.runExclusive(k, async () => {
      const current = await store.loadConversation(k);
      await store.commitTurn(turnCommit(k, (current?.turn ?? 0) + 1, { activityKey: `${k}:2` }));
    });
    expect((await store.loadConversation(k))?.turn).toBe(2);
    expect(await store.loadTranscript(k)).toHaveLength(4);
  });

  // 'answer': the server commits and its answer never arrives, so whether it committed is read back.
  // 'request': the statement never reaches the server, so it is sent again.
  it.each(['answer', 'request'] as const)('stores a turn once when the connection is cut on the %s of its commit', async (what) => {
    const { proxy, store } = await storeBehindProxy();
    try {
      const k = `msteams:${uniqueName('conv')}`;
      await store.commitTurn(turnCommit(k, 1));
      proxy.cutNext(what);
      await store.commitTurn(turnCommit(k, 2, { activityKey: `${k}:2` }));
      expect(proxy.cuts).toBe(1);
      expect((await store.loadConversation(k))?.turn).toBe(2);
      expect(await store.loadTranscript(k)).toHaveLength(4);
      expect(await store.isProcessed(k, `${k}:2`)).toBe(true);
    } finally {
      await store.close();
      await proxy.down();
    }
  });

  async function storeBehindProxy(): Promise<{ proxy: TcpProxy; store: SqlStore }> {
    const target = new URL(TEST_DATABASE_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.port = String(await proxy.up());
    const store = createStore(viaProxy.toString(), silentLogger, { schema: harness.schema, applicationName: uniqueName('proxy') });
    await store.open();
    return { proxy, store };
  }

  it('fails turns quickly while the database is away and serves them again when it is back', async () => {
    const target = new URL(TEST_DATABASE_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    const port = await proxy.up();
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.port = String(port);
    const store = createStore(viaProxy.toString(), silentLogger, { schema: harness.schema, applicationName: uniqueName('proxy') });
    try {
      await store.open();
      const k = `msteams:${uniqueName('conv')}`;
      await store.runExclusive(k, () => store.commitTurn(turnCommit(k, 1)));

      await proxy.down();
      await expect(store.runExclusive(k, () => store.commitTurn(turnCommit(k, 2)))).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(store.loadConversation(k)).rejects.toBeInstanceOf(StorageUnavailableError);

      await proxy.up(port);
      await store.runExclusive(k, async () => {
        const current = await store.loadConversation(k);
        await store.commitTurn(turnCommit(k, (current?.turn ?? 0) + 1));
      });
      expect((await store.loadConversation(k))?.turn).toBe(2);
      expect(await store.loadTranscript(k)).toHaveLength(4);
    } finally {
      await store.close();
      await proxy.down();
    }
  });

  it('stops start-up with a named error and a hint when PostgreSQL is not there', async () => {
    const port = await closedPort();
    const store = createStore({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`, DATABASE_POOL_SIZE: 2 }, silentLogger);
    const error = await store.open().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as StorageUnavailableError).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}/test`));
    expect((error as StorageUnavailableError).hint).toMatch(/DATABASE_URL/);
  });

  it('does not hang when the server accepts connections but never answers', async () => {
    const silent = await silentServer();
    try {
      const store = createStore(`postgres://postgres@127.0.0.1:${silent.port}/test`, silentLogger, { connectTimeoutMs: 300 });
      await expect(store.open()).rejects.toBeInstanceOf(StorageUnavailableError);
    } finally {
      await silent.close();
    }
  });

  it('never puts the password of DATABASE_URL into its errors', async () => {
    const port = await closedPort();
    const store = createStore(`postgres://bot:s3cret-pw@127.0.0.1:${port}/test`, silentLogger);
    const error = (await store.open().catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('s3cret-pw');
    expect(store.description).not.toContain('s3cret-pw');
  });
});

describe('PostgreSQL: TEST_DATABASE_URL is reachable', () => {
  it('answers (these suites fail rather than skip without it)', async () => {
    const store = createStore(TEST_DATABASE_URL, silentLogger, { schema: uniqueName('reach') });
    await store.open();
    expect(store.kind).toBe('postgres');
    await sql`drop schema ${sql.id(store.schema ?? '')} cascade`.execute(store.db);
    await store.close();
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A TCP server that accepts and then says nothing, like a database host that stopped responding. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * A loopback TCP proxy in front of PostgreSQL that can be taken down (every connection cut) and
 * brought back, or cut the next connection that sends a request or an answer (dropping that data).
 */
class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private armed?: 'request' | 'answer';
  cuts = 0;

  cutNext(what: 'request' | 'answer'): void {
    this.armed = what;
  }

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async up(port = 0): Promise<number> {
    const server = createServer((client) => {
      const upstream = connect(this.port, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      const relay = (from: Socket, to: Socket, what: 'request' | 'answer') =>
        from.on('data', (chunk: Buffer) => {
          if (this.armed === what) {
            this.armed = undefined;
            this.cuts++;
            client.destroy();
            upstream.destroy();
            return;
          }
          to.write(chunk);
        });
      relay(client, upstream, 'request');
      relay(upstream, client, 'answer');
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    this.server = server;
    return (server.address() as { port: number }).port;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((r) => server.close(r));
  }
}

describe('PostgreSQL: large values every turn rewrites', () => {
  const harness = postgresHarness();
  afterAll(() => harness.cleanup());

  it('are compressed with lz4 (cheaper for the server than pglz), and read back as written', async () => {
    const store = await harness.open();
    const columns = await sql<{ table: string; column: string; compression: string }>`
      select c.relname as table, a.attname as column, a.attcompression as compression
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${harness.schema} and (c.relname, a.attname) in (('conversations', 'snapshot'), ('conversations', 'parents'), ('bot_replies', 'messages'))
      order by 1, 2`.execute(store.db);
    expect(columns.rows).toEqual([
      { table: 'bot_replies', column: 'messages', compression: 'l' },
      { table: 'conversations', column: 'parents', compression: 'l' },
      { table: 'conversations', column: 'snapshot', compression: 'l' },
    ]);
    const k = `msteams:${uniqueName('lz4')}`;
    // Large enough to be TOASTed (over 2 KB), compressible as a flow's context is.
    const note = Array.from({ length: 200 }, (_, i) => `step ${i}: check the spam folder`).join('; ');
    const commit = turnCommit(k, 1);
    commit.conversation.snapshot = { status: 'active', value: 'ask', context: { note } };
    await store.commitTurn(commit);
    const stored = await sql<{ method: string | null }>`select pg_column_compression(snapshot) as method from conversations where key = ${k}`.execute(store.db);
    expect(stored.rows[0]?.method).toBe('lz4');
    expect((await store.loadConversation(k))?.snapshot).toEqual(commit.conversation.snapshot);
  });
});
