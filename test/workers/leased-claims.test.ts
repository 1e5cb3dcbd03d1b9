/**
 * The shared leased claims (src/storage/leased-claims.ts) on real SQLite and PostgreSQL, over a
 * table of the test's own: two workers claiming at once get disjoint rows, a lease that ran out is
 * taken over (and its old holder can neither renew it nor record a result), a stranger's renewal
 * fails, and due-ness, order, batch size, attempts and release are as the table's spec says.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/storage/index';
import { LeasedClaims } from '../../src/storage/leased-claims';
import type { Timestamp } from '../../src/storage/schema';
import { postgresHarness, sqliteHarness, type StoreHarness } from '../storage/harness';

interface ItemsTable {
  id: string;
  status: string;
  due_at: Timestamp;
  attempts: number;
  claimed_by: string | null;
  claimed_until: Timestamp | null;
}
type ItemsDatabase = { leased_items: ItemsTable };

const T0 = new Date('2026-11-25T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const LEASE = 60_000;

function itemsOf(store: SqlStore) {
  return store.db.withTables<ItemsDatabase>();
}

function claimsOn(store: SqlStore, countAttempts?: 'onClaim' | 'onSettle') {
  return new LeasedClaims<ItemsDatabase, 'leased_items', 'id'>(store, {
    table: 'leased_items',
    key: 'id',
    open: (eb) => eb('status', '=', 'pending'),
    due: (eb, now) => eb('due_at', '<=', now),
    order: ['due_at', 'id'],
    countAttempts,
  });
}

async function createTable(store: SqlStore): Promise<void> {
  const time = store.kind === 'postgres' ? sql`timestamptz` : sql`text`;
  await sql`create table leased_items (
    id text primary key, status text not null, due_at ${time} not null, attempts integer not null default 0,
    claimed_by text, claimed_until ${time})`.execute(store.db);
}

async function insert(store: SqlStore, ids: string[], dueAt = T0): Promise<void> {
  await itemsOf(store)
    .insertInto('leased_items')
    .values(ids.map((id) => ({ id, status: 'pending', due_at: dueAt.toISOString(), attempts: 0, claimed_by: null, claimed_until: null })))
    .execute();
}

async function row(store: SqlStore, id: string) {
  return itemsOf(store).selectFrom('leased_items').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`leased claims on ${dialect}`, () => {
    let harness: StoreHarness;
    let store: SqlStore;

    beforeEach(async () => {
      harness = dialect === 'sqlite' ? sqliteHarness() : postgresHarness();
      store = await harness.open();
      await createTable(store);
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it('two instances claiming at the same moment get disjoint rows, and every row goes to one of them', async () => {
      const all = Array.from({ length: 60 }, (_, i) => `item-${String(i).padStart(2, '0')}`);
      await insert(store, all);
      // A second store on the same database: another bot instance with its own connections.
      const other = await harness.open();
      const a = claimsOn(store);
      const b = claimsOn(other);
      const got = new Map<string, string[]>([
        ['a', []],
        ['b', []],
      ]);
      // Until nothing is left (a round may give an instance fewer rows than it asked for, never the same ones).
      for (let round = 0; round < 30 && got.get('a')!.length + got.get('b')!.length < all.length; round++) {
        const now = at(round);
        const [fromA, fromB] = await Promise.all([
          a.claim({ workerId: 'a', now, leaseMs: LEASE, limit: 5 }),
          b.claim({ workerId: 'b', now, leaseMs: LEASE, limit: 5 }),
        ]);
        got.get('a')!.push(...ids(fromA));
        got.get('b')!.push(...ids(fromB));
      }
      const claimed = [...got.get('a')!, ...got.get('b')!];
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed.sort()).toEqual(all);
      expect(got.get('a')!.length).toBeGreaterThan(0);
      expect(got.get('b')!.length).toBeGreaterThan(0);
      // Each row names the instance that got it.
      for (const [worker, mine] of got) for (const id of mine.slice(0, 3)) expect((await row(store, id)).claimed_by).toBe(worker);
    });

    it('leaves a live lease alone and takes over one that ran out; the old holder can neither renew nor record', async () => {
      await insert(store, ['x']);
      const claims = claimsOn(store);
      expect(ids(await claims.claim({ workerId: 'a', now: T0, leaseMs: LEASE, limit: 10 }))).toEqual(['x']);
      expect(await claims.claim({ workerId: 'b', now: at(LEASE - 1), leaseMs: LEASE, limit: 10 })).toEqual([]);
      expect(ids(await claims.claim({ workerId: 'b', now: at(LEASE + 1), leaseMs: LEASE, limit: 10 }))).toEqual(['x']);
      expect(await claims.renew('x', { workerId: 'a', until: at(3 * LEASE) })).toBe(false);
      expect(await claims.settle('x', 'a', { status: 'done' })).toBe(false);
      await claims.release('x', 'a', at(10 * LEASE));
      expect(await row(store, 'x')).toMatchObject({ status: 'pending', claimed_by: 'b' });
      expect(await claims.settle('x', 'b', { status: 'done' })).toBe(true);
      expect(await row(store, 'x')).toMatchObject({ status: 'done', claimed_by: null, claimed_until: null });
    });

    it('renews only the holder’s claim, and with `now` only one that has not run out', async () => {
      await insert(store, ['x']);
      const claims = claimsOn(store);
      await claims.claim({ workerId: 'a', now: T0, leaseMs: LEASE, limit: 10 });
      expect(await claims.renew('x', { workerId: 'stranger', until: at(2 * LEASE) })).toBe(false);
      expect(await claims.renew('x', { workerId: 'a', now: at(LEASE / 2), until: at(LEASE / 2 + LEASE) })).toBe(true);
      // Renewed: past the first lease, nobody else gets it.
      expect(await claims.claim({ workerId: 'b', now: at(LEASE + 1), leaseMs: LEASE, limit: 10 })).toEqual([]);
      // Past the renewed lease, a renewal that checks `now` fails (another worker may hold it already).
      expect(await claims.renew('x', { workerId: 'a', now: at(2 * LEASE), until: at(3 * LEASE) })).toBe(false);
      // A finished row is not renewed at all.
      expect(await claims.settle('x', 'a', { status: 'done' })).toBe(true);
      expect(await claims.renew('x', { workerId: 'a', until: at(3 * LEASE) })).toBe(false);
    });

    it('claims only open, due rows, in the spec’s order, at most `limit` of them', async () => {
      await insert(store, ['late'], at(10));
      await insert(store, ['b', 'a'], at(5));
      await insert(store, ['future'], at(LEASE));
      await insert(store, ['finished'], T0);
      await itemsOf(store).updateTable('leased_items').set({ status: 'done' }).where('id', '=', 'finished').execute();
      const claims = claimsOn(store);
      expect(ids(await claims.claim({ workerId: 'w', now: at(100), leaseMs: LEASE, limit: 2 }))).toEqual(['a', 'b']);
      expect(ids(await claims.claim({ workerId: 'w', now: at(100), leaseMs: LEASE, limit: 2 }))).toEqual(['late']);
      expect(await claims.claim({ workerId: 'w', now: at(100), leaseMs: LEASE, limit: 2 })).toEqual([]);
    });

    it('counts an attempt on each claim or on each recorded result, as the spec says', async () => {
      await insert(store, ['x', 'y']);
      const onClaim = claimsOn(store, 'onClaim');
      const onSettle = claimsOn(store, 'onSettle');
      await onClaim.claim({ workerId: 'w', now: T0, leaseMs: LEASE, limit: 1 });
      expect((await row(store, 'x')).attempts).toBe(1);
      await onSettle.claim({ workerId: 'w', now: T0, leaseMs: LEASE, limit: 1 });
      expect((await row(store, 'y')).attempts).toBe(0);
      await onSettle.settle('y', 'w', { due_at: at(LEASE).toISOString() });
      expect(await row(store, 'y')).toMatchObject({ attempts: 1, claimed_by: null });
    });

    it('a released row is claimable again from its retry time; a stranger cannot release it', async () => {
      await insert(store, ['x']);
      const claims = claimsOn(store);
      await claims.claim({ workerId: 'a', now: T0, leaseMs: LEASE, limit: 10 });
      await claims.release('x', 'stranger', T0);
      expect(await claims.claim({ workerId: 'b', now: at(1), leaseMs: LEASE, limit: 10 })).toEqual([]);
      await claims.release('x', 'a', at(100));
      expect(await claims.claim({ workerId: 'b', now: at(99), leaseMs: LEASE, limit: 10 })).toEqual([]);
      expect(ids(await claims.claim({ workerId: 'b', now: at(101), leaseMs: LEASE, limit: 10 }))).toEqual(['x']);
    });

    it('settles `whileOpen` only a row that is still open; takes over other workers’ claims when asked', async () => {
      await insert(store, ['x', 'y']);
      const claims = claimsOn(store);
      await claims.claim({ workerId: 'gone', now: T0, leaseMs: LEASE, limit: 10 });
      expect(ids(await claims.claim({ workerId: 'me', now: at(1), leaseMs: LEASE, limit: 10, takeOverOtherWorkers: true }))).toEqual(['x', 'y']);
      await itemsOf(store).updateTable('leased_items').set({ status: 'cancelled' }).where('id', '=', 'x').execute();
      expect(await claims.settle('x', 'me', { status: 'done' }, { whileOpen: true })).toBe(false);
      expect((await row(store, 'x')).status).toBe('cancelled');
      expect(await claims.settle('y', 'me', { status: 'done' }, { whileOpen: true })).toBe(true);
    });
  });
}
