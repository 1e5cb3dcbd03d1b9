/**
 * The Webex inbox and live cards on real SQLite and PostgreSQL: a re-delivery is one row, claims
 * respect live leases and take over expired ones (each row to one claimant, also when two instances
 * claim at once), a holder's renewal keeps its claim and fails once it was taken over, the turn marks
 * its notification in its own transaction.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../../src/storage/index';
import { WebexRepository } from '../../../src/channels/webex/inbox-repository';
import { postgresHarness, sqliteHarness, turnCommit, type StoreHarness } from '../../storage/harness';

const T0 = new Date('2026-11-25T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const LEASE = 60_000;

function entry(id: string, roomId = 'room-1') {
  return { notificationId: id, roomId, resource: 'messages', notification: { resource: 'messages', event: 'created', data: { id, roomId } } };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`Webex inbox on ${dialect}`, () => {
    let harness: StoreHarness;
    let store: SqlStore;
    let repo: WebexRepository;

    beforeEach(async () => {
      harness = dialect === 'sqlite' ? sqliteHarness() : postgresHarness();
      store = await harness.open();
      repo = new WebexRepository(store);
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it('records a notification once: a re-delivery of the same data.id is refused', async () => {
      expect(await repo.receive(entry('n1'), { workerId: 'a', now: T0, leaseMs: LEASE })).toBe(true);
      expect(await repo.receive(entry('n1'), { workerId: 'b', now: at(5), leaseMs: LEASE })).toBe(false);
      const row = await repo.find('n1');
      expect(row).toMatchObject({ status: 'pending', claimedBy: 'a', roomId: 'room-1', attempts: 1 });
      expect(row!.notification).toEqual(entry('n1').notification);
    });

    it('leaves a live claim alone and takes over an expired one, in arrival order', async () => {
      await repo.receive(entry('n1'), { workerId: 'a', now: T0, leaseMs: LEASE });
      await repo.receive(entry('n2', 'room-2'), { workerId: 'a', now: T0, leaseMs: LEASE });
      expect(await repo.claimDue({ workerId: 'b', now: at(LEASE - 1), leaseMs: LEASE, limit: 10 })).toEqual([]);
      const claimed = await repo.claimDue({ workerId: 'b', now: at(LEASE + 1), leaseMs: LEASE, limit: 10 });
      expect(claimed.map((e) => [e.notificationId, e.attempts])).toEqual([
        ['n1', 2],
        ['n2', 2],
      ]);
      expect((await repo.find('n1'))!.claimedBy).toBe('b');
      // Now b holds them: nobody else gets them until b's lease runs out.
      expect(await repo.claimDue({ workerId: 'c', now: at(LEASE + 2), leaseMs: LEASE, limit: 10 })).toEqual([]);
    });

    it('a renewed claim outlasts its first lease; a claim taken over cannot be renewed by its old holder', async () => {
      await repo.receive(entry('n1'), { workerId: 'a', now: T0, leaseMs: LEASE });
      expect(await repo.renewClaim('n1', { workerId: 'a', now: at(LEASE / 2), leaseMs: LEASE })).toBe(true);
      // Past the first lease, but within the renewed one: nobody else gets it.
      expect(await repo.claimDue({ workerId: 'b', now: at(LEASE + 1), leaseMs: LEASE, limit: 10 })).toEqual([]);
      expect((await repo.find('n1'))!.claimedBy).toBe('a');
      // a stops renewing: once the renewed lease ran out, b takes it over, and a cannot renew it back.
      expect((await repo.claimDue({ workerId: 'b', now: at(LEASE / 2 + LEASE + 1), leaseMs: LEASE, limit: 10 })).map((e) => e.notificationId)).toEqual(['n1']);
      expect(await repo.renewClaim('n1', { workerId: 'a', now: at(LEASE * 2), leaseMs: LEASE })).toBe(false);
      expect((await repo.find('n1'))!.claimedBy).toBe('b');
      // A finished notification has no claim left to renew.
      await repo.markHandled('n1', at(LEASE * 2));
      expect(await repo.renewClaim('n1', { workerId: 'b', now: at(LEASE * 2), leaseMs: LEASE })).toBe(false);
    });

    it('takes over claims of other workers at once when asked (a SQLite file has one owner)', async () => {
      await repo.receive(entry('n1'), { workerId: 'dead-process', now: T0, leaseMs: LEASE });
      await repo.receive(entry('n2'), { workerId: 'me', now: T0, leaseMs: LEASE });
      const claimed = await repo.claimDue({ workerId: 'me', now: at(1), leaseMs: LEASE, limit: 10, takeOverOtherWorkers: true });
      expect(claimed.map((e) => e.notificationId)).toEqual(['n1']);
    });

    it('never claims handled or failed notifications', async () => {
      await repo.receive(entry('n1'), { workerId: 'a', now: T0, leaseMs: LEASE });
      await repo.receive(entry('n2'), { workerId: 'a', now: T0, leaseMs: LEASE });
      await repo.markHandled('n1', at(1));
      await repo.markFailed('n2', 'Webex API GET /messages/n2 failed with 404', at(1));
      expect(await repo.claimDue({ workerId: 'b', now: at(LEASE * 10), leaseMs: LEASE, limit: 10 })).toEqual([]);
      expect(await repo.countByStatus('handled')).toBe(1);
      expect(await repo.countByStatus('failed')).toBe(1);
      expect(await repo.pruneFinished(at(2))).toBe(2);
      expect(await repo.find('n1')).toBeUndefined();
    });

    it('marks the notification turned in the turn transaction, and not when the turn is refused', async () => {
      await repo.receive(entry('n1'), { workerId: 'a', now: T0, leaseMs: LEASE });
      await store.commitTurn(turnCommit('webex:room-1', 1, { activityKey: 'webex:n1' }));
      expect((await repo.find('n1'))!.status).toBe('turned');
      // A turned notification is still unfinished (its replies may not have gone out): resumable.
      expect((await repo.claimDue({ workerId: 'b', now: at(LEASE + 1), leaseMs: LEASE, limit: 10 })).map((e) => e.status)).toEqual(['turned']);

      await repo.receive(entry('n2'), { workerId: 'a', now: T0, leaseMs: LEASE });
      // The same conversation turn again is refused (ConcurrentTurnError): nothing of it is written.
      await expect(store.commitTurn(turnCommit('webex:room-1', 1, { activityKey: 'webex:n2' }))).rejects.toThrow();
      expect((await repo.find('n2'))!.status).toBe('pending');
    });

    it('remembers one live card per space and forgets it only while it is still that card', async () => {
      expect(await repo.liveCard('room-1')).toBeUndefined();
      await repo.setLiveCard({ roomId: 'room-1', messageId: 'm1', step: 'entry' }, T0);
      await repo.setLiveCard({ roomId: 'room-1', messageId: 'm2', step: 'spamCheck' }, at(1));
      expect(await repo.liveCard('room-1')).toEqual({ roomId: 'room-1', messageId: 'm2', step: 'spamCheck' });
      await repo.clearLiveCard('room-1', 'm1');
      expect((await repo.liveCard('room-1'))?.messageId).toBe('m2');
      await repo.clearLiveCard('room-1', 'm2');
      expect(await repo.liveCard('room-1')).toBeUndefined();
    });

    if (dialect === 'postgres') {
      it('two instances claiming at once get disjoint rows: each notification is resumed exactly once', async () => {
        for (let i = 0; i < 40; i++) await repo.receive(entry(`n${i}`, `room-${i % 5}`), { workerId: 'dead', now: T0, leaseMs: LEASE });
        const other = new WebexRepository(await harness.open());
        const later = at(LEASE + 1);
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? other : repo).claimDue({ workerId: `w${i}`, now: later, leaseMs: LEASE, limit: 7 })),
        );
        const ids = claims.flat().map((e) => e.notificationId);
        expect(new Set(ids).size).toBe(ids.length);
        // Whatever was left by the race is claimed afterwards; in all, every row exactly once.
        const rest = await repo.claimDue({ workerId: 'w-last', now: later, leaseMs: LEASE, limit: 100 });
        expect([...ids, ...rest.map((e) => e.notificationId)].sort()).toEqual(Array.from({ length: 40 }, (_, i) => `n${i}`).sort());
      });
    }
  });
}
