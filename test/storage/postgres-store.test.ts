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
import { deferred, postgresHarness, silentLogger, TEST_DATABASE_URL, turnCommit, uniqueName } from './harness';

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

  /** Advisory locks this suite's connections wait for. */
  async function waitingAdvisoryLocks(): Promise<number> {
    const { rows } = await harness.admin().query<{ n: string }>(
      `select count(*) as n from pg_locks l join pg_stat_activity s on s.pid = l.pid
        where l.locktype = 'advisory' and not l.granted and s.application_name like $1`,
      [`${harness.schema}%`],
    );
    return Number(rows[0]?.n);
  }

  it('serialises turns of one conversation across instances: a waits, b waits', async () => {
    const k = key();
    const gate = deferred();
    const events: string[] = [];
    const first = a.runExclusive(k, async () => {
      events.push('a in');
      await gate.promise;
      events.push('a out');
    });
    while (events.length === 0) await new Promise((r) => setImmediate(r));
    const second = b.runExclusive(k, async () => {
      events.push('b in');
    });
    // b's turn is parked in pg_advisory_lock on the server, not merely slow.
    while ((await waitingAdvisoryLocks()) === 0) await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(['a in']);
    gate.resolve();
    await Promise.all([first, second]);
    expect(events).toEqual(['a in', 'a out', 'b in']);
  });

  it('keeps a conversation whole when its turns alternate and race between instances', async () => {
    const k = key();
    let inside = 0;
    let maxInside = 0;
    const turn = (store: SqlStore) =>
      store.runExclusive(k, async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        const current = await store.loadConversation(k);
        await sql`select pg_sleep(0.005)`.execute(store.db);
        await store.commitTurn(turnCommit(k, (current?.turn ?? 0) + 1));
        inside--;
      });
    await Promise.all(Array.from({ length: 12 }, (_, i) => turn(i % 2 === 0 ? a : b)));
    expect(maxInside).toBe(1);
    expect((await a.loadConversation(k))?.turn).toBe(12);
    expect(await b.loadTranscript(k)).toHaveLength(24);
  });

  it('handles an activity delivered to both instances once', async () => {
    const k = key();
    const activityKey = `${k}:activity-1`;
    const handle = (store: SqlStore) =>
      store.runExclusive(k, async () => {
        if (await store.isProcessed(activityKey)) return 'duplicate';
        const current = await store.loadConversation(k);
        await store.commitTurn(turnCommit(k, (current?.turn ?? 0) + 1, { activityKey }));
        return 'handled';
      });
    const results = await Promise.all([handle(a), handle(b), handle(a), handle(b)]);
    expect(results.filter((r) => r === 'handled')).toHaveLength(1);
    expect(await a.loadTranscript(k)).toHaveLength(2);
  });

  it('refuses the second of two unlocked commits of the same activity (ON CONFLICT DO NOTHING)', async () => {
    const k = key();
    const results = await Promise.allSettled([
      a.commitTurn(turnCommit(k, 1, { activityKey: `${k}:x` })),
      b.commitTurn(turnCommit(`${k}-other`, 1, { activityKey: `${k}:x` })),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(DuplicateActivityError);
  });

  it('refuses a commit that would overwrite a newer turn made by the other instance', async () => {
    const k = key();
    await a.commitTurn(turnCommit(k, 1));
    await b.commitTurn(turnCommit(k, 2));
    await expect(a.commitTurn(turnCommit(k, 2))).rejects.toBeInstanceOf(ConcurrentTurnError);
  });

  it('gives the lock back when the turn ends, also when it fails', async () => {
    const k = key();
    await expect(a.runExclusive(k, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await b.runExclusive(k, async () => undefined);
    const { rows } = await harness.admin().query<{ n: string }>(
      `select count(*) as n from pg_locks l join pg_stat_activity s on s.pid = l.pid
        where l.locktype = 'advisory' and s.application_name like $1`,
      [`${harness.schema}%`],
    );
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('gives up waiting for a lock after the statement timeout instead of hanging', async () => {
    const k = key();
    const impatient = await harness.open({ applicationName: `${harness.schema}_c`, statementTimeoutMs: 300 });
    const gate = deferred();
    let entered = false;
    const holder = a.runExclusive(k, async () => {
      entered = true;
      await gate.promise;
    });
    while (!entered) await new Promise((r) => setImmediate(r));
    await expect(impatient.runExclusive(k, async () => 'never')).rejects.toBeInstanceOf(StorageError);
    gate.resolve();
    await holder;
    expect(await impatient.runExclusive(k, async () => 'after')).toBe('after');
    await impatient.close();
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
    await Promise.all([store.isProcessed('warm-1'), store.isProcessed('warm-2')]); // several pooled connections
    expect(await terminate(app)).toBeGreaterThan(0);

    expect((await store.loadConversation(k))?.turn).toBe(1);
    await store.runExclusive(k, async () => {
      const current = await store.loadConversation(k);
      await store.commitTurn(turnCommit(k, (current?.turn ?? 0) + 1, { activityKey: `${k}:2` }));
    });
    expect((await store.loadConversation(k))?.turn).toBe(2);
    expect(await store.loadTranscript(k)).toHaveLength(4);
  });

  it('fails a turn whose connection dies mid-turn with a storage error, writes none of it, then recovers', async () => {
    const app = uniqueName('midturn');
    const store = await harness.open({ applicationName: app });
    const k = `msteams:${uniqueName('conv')}`;
    await store.runExclusive(k, () => store.commitTurn(turnCommit(k, 1)));

    const failed = store.runExclusive(k, async () => {
      const current = await store.loadConversation(k);
      await terminate(app);
      await store.commitTurn(turnCommit(k, (current?.turn ?? 0) + 1, { activityKey: `${k}:lost` }));
    });
    await expect(failed).rejects.toBeInstanceOf(StorageUnavailableError);

    expect((await store.loadConversation(k))?.turn).toBe(1);
    expect(await store.isProcessed(`${k}:lost`)).toBe(false);
    await store.runExclusive(k, () => store.commitTurn(turnCommit(k, 2, { activityKey: `${k}:lost` })));
    expect((await store.loadConversation(k))?.turn).toBe(2);
  });

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

/** A loopback TCP proxy in front of PostgreSQL that can be taken down (every connection cut) and brought back. */
class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

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
      client.pipe(upstream).pipe(client);
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
