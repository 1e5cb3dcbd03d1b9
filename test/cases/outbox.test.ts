/**
 * The delivery worker over a real store (SQLite and PostgreSQL) and a real webhook receiver on
 * loopback: receiver down, restart, return; permanent and retryable failures; leases.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWebhookBackend } from '../../src/cases/backends/index';
import { CaseOutbox, retryDelayMs, type CaseOutboxOptions, type DeliveryOutcome } from '../../src/cases/outbox';
import { CaseRepository } from '../../src/storage/cases-repository';
import type { SqlStore } from '../../src/storage/index';
import { fixtureTranslator } from '../dialogs/support-case/fixture-entry';
import { postgresHarness, silentLogger, sqliteHarness, type StoreHarness } from '../storage/harness';
import { CREATED_AT, seedCase, webhookReceiver } from './helpers';

const translator = fixtureTranslator();
const SECRET = 'a-webhook-secret-of-some-length';

describe('retryDelayMs', () => {
  it('doubles per attempt, keeps at least half of it as jitter allows, and stops at the cap', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 0.999999)).toBe(1000);
    expect(retryDelayMs(3, 1000, 60_000, () => 0)).toBe(2000);
    expect(retryDelayMs(3, 1000, 60_000, () => 0.5)).toBe(3000);
    expect(retryDelayMs(30, 1000, 60_000, () => 0)).toBe(30_000);
    expect(retryDelayMs(30, 1000, 60_000, () => 0.999999)).toBe(60_000);
  });
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`case outbox on ${dialect}`, () => {
    let harness: StoreHarness;
    let now: Date;
    const outboxes: CaseOutbox[] = [];
    const attempts: DeliveryOutcome[] = [];

    beforeEach(() => {
      harness = dialect === 'sqlite' ? sqliteHarness() : postgresHarness();
      now = new Date(CREATED_AT);
      attempts.length = 0;
    });
    afterEach(async () => {
      for (const o of outboxes.splice(0)) await o.stop();
      await harness.cleanup();
    });

    function outbox(store: SqlStore, url: string, extra: Partial<CaseOutboxOptions> = {}): CaseOutbox {
      const o = new CaseOutbox({
        repository: new CaseRepository(store),
        backend: createWebhookBackend({ url, secret: SECRET, timeoutMs: 2_000 }),
        translator,
        logger: silentLogger,
        clock: () => now,
        random: () => 0.5,
        retryBaseMs: 60_000,
        pollMs: 20,
        onAttempt: (_backend, outcome) => attempts.push(outcome),
        ...extra,
      });
      outboxes.push(o);
      return o;
    }

    it('keeps a case pending while the receiver is down, and after a restart and its return delivers it exactly once', async () => {
      const { receiver, accepted } = await webhookReceiver(SECRET);
      const url = `${receiver.url}/cases`;
      await receiver.stop();

      const first = await harness.open();
      const seeded = await seedCase(first);
      const before = outbox(first, url);
      expect(await before.runOnce()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
      const pending = (await new CaseRepository(first).findByReference(seeded.reference))!;
      expect(pending.delivery).toMatchObject({ status: 'pending', attempts: 1 });
      expect(pending.delivery.lastError).toMatch(/could not be reached/);
      expect(pending.delivery.nextAttemptAt).toBe(new Date(now.getTime() + 45_000).toISOString());
      // Not due yet: nothing is claimed.
      expect(await before.runOnce()).toEqual({ delivered: 0, retrying: 0, failed: 0 });

      // The bot restarts; the receiver comes back; time passes beyond the retry.
      await before.stop();
      await first.close();
      await receiver.start();
      now = new Date(now.getTime() + 10 * 60_000);
      const second = await harness.open();
      const repo = new CaseRepository(second);
      outbox(second, url).start();
      await vi.waitFor(async () => expect((await repo.findByReference(seeded.reference))!.delivery.status).toBe('delivered'), { timeout: 10_000 });

      const delivered = (await repo.findByReference(seeded.reference))!;
      expect(delivered.delivery).toMatchObject({ status: 'delivered', attempts: 2, externalId: `TCK-${seeded.reference}`, deliveredAt: now.toISOString() });
      expect(delivered.delivery.lastError).toBeUndefined();
      expect(receiver.requests).toHaveLength(1);
      expect(accepted.size).toBe(1);
      expect(attempts).toEqual(['retrying', 'delivered']);

      // The body is the case record and the English summary, signed (the receiver checked the signature).
      const body = accepted.get(seeded.reference) as { type: string; case: Record<string, unknown>; summary: string };
      expect(body.type).toBe('support_case');
      expect(body.case).toMatchObject({ reference: seeded.reference, orderNumber: '104857391', newContactEmail: 'new@customer.example', locale: 'uk' });
      expect(body.summary).toContain('Request Type: Change Provisioning Contact Email');
      expect(body.summary).toContain('Conversation language: Ukrainian');
      expect(body.summary).toContain('describe: "поле не зберігається"');
      expect(receiver.requests[0]!.headers['idempotency-key']).toBe(seeded.reference);
      await receiver.stop();
    });

    it('records a 4xx rejection as a permanent failure, and retries 408, 429 and 5xx', async () => {
      const answers = new Map<string, number>();
      const { receiver } = await webhookReceiver(SECRET, (req) => answers.get(JSON.parse(req.body).case.reference) ?? 201);
      const store = await harness.open();
      const repo = new CaseRepository(store);
      const rejected = await seedCase(store);
      const limited = await seedCase(store);
      const timeout = await seedCase(store);
      const broken = await seedCase(store);
      answers.set(rejected.reference, 422).set(limited.reference, 429).set(timeout.reference, 408).set(broken.reference, 503);

      expect(await outbox(store, receiver.url).runOnce()).toEqual({ delivered: 0, retrying: 3, failed: 1 });
      const failed = (await repo.findByReference(rejected.reference))!;
      expect(failed.delivery).toMatchObject({ status: 'failed', attempts: 1, lastError: 'The case webhook answered HTTP 422' });
      for (const c of [limited, timeout, broken]) expect((await repo.findByReference(c.reference))!.delivery.status).toBe('pending');
      expect(await repo.countByStatus('failed')).toBe(1);
      await receiver.stop();
    });

    it('gives up after the last attempt and records why', async () => {
      const { receiver } = await webhookReceiver(SECRET, () => 500);
      const store = await harness.open();
      const seeded = await seedCase(store);
      const o = outbox(store, receiver.url, { maxAttempts: 2 });
      expect((await o.runOnce()).retrying).toBe(1);
      now = new Date(now.getTime() + 3_600_000);
      expect((await o.runOnce()).failed).toBe(1);
      const record = (await new CaseRepository(store).findByReference(seeded.reference))!;
      expect(record.delivery).toMatchObject({ status: 'failed', attempts: 2, lastError: 'The case webhook answered HTTP 500' });
      await receiver.stop();
    });

    it('lets another instance claim a case only after the first claim expired, and ignores the stale claimant', async () => {
      const store = await harness.open();
      const seeded = await seedCase(store);
      const a = new CaseRepository(store);
      const b = new CaseRepository(await harness.open());
      expect((await a.claimDue({ workerId: 'A', now, leaseMs: 60_000, limit: 5 })).map((c) => c.reference)).toEqual([seeded.reference]);
      expect(await b.claimDue({ workerId: 'B', now: new Date(now.getTime() + 30_000), leaseMs: 60_000, limit: 5 })).toEqual([]);
      expect(await b.claimDue({ workerId: 'B', now: new Date(now.getTime() + 61_000), leaseMs: 60_000, limit: 5 })).toHaveLength(1);
      expect(await a.markDelivered(seeded.reference, 'A', { at: now })).toBe(false);
      expect(await b.markDelivered(seeded.reference, 'B', { externalId: 'X1', at: now })).toBe(true);
    });

    if (dialect === 'postgres') {
      it('never hands the same case to two instances claiming at the same moment', async () => {
        const one = await harness.open();
        const two = await harness.open();
        for (let i = 0; i < 8; i++) await seedCase(one);
        const [x, y] = await Promise.all([
          new CaseRepository(one).claimDue({ workerId: 'one', now, leaseMs: 60_000, limit: 5 }),
          new CaseRepository(two).claimDue({ workerId: 'two', now, leaseMs: 60_000, limit: 5 }),
        ]);
        const refs = [...x, ...y].map((c) => c.reference);
        expect(new Set(refs).size).toBe(refs.length);
        expect(refs.length).toBeGreaterThanOrEqual(5);
      });
    }
  });
}
