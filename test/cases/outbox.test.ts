/**
 * The delivery worker over a real store (SQLite and PostgreSQL) and a real webhook receiver on
 * loopback: receiver down (connection refused) longer than any retry budget, restart, return;
 * definite rejections against everything else; Retry-After; what the person is told; leases between
 * two workers, synchronised on the receiver's requests (never on sleeps), with time on a fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWebhookBackend, retryAfterMs } from '../../src/cases/backends/index';
import { CaseOutbox, retryDelayMs, type CaseOutboxOptions, type DeliveryOutcome } from '../../src/cases/outbox';
import { createCaseStatusIntent } from '../../src/cases/status-intent';
import { TicketNotice } from '../../src/cases/ticket-notice';
import type { ChannelNotifier } from '../../src/channels/notify';
import { Agents } from '../../src/security/identity';
import { CaseRepository } from '../../src/cases/repository';
import type { SqlStore } from '../../src/storage/index';
import { fixtureTranslator } from '../dialogs/support-case/fixture-entry';
import { deferred, postgresHarness, sqliteHarness, type StoreHarness } from '../storage/harness';
import { CREATED_AT, seedCase, webhookReceiver, type Received, type WebhookAnswer } from './helpers';
import { captureLogs, silentLogger } from '../support';

const translator = fixtureTranslator();
const SECRET = 'a-webhook-secret-of-some-length';
const referenceOf = (req: Received) => (JSON.parse(req.body) as { case: { reference: string } }).case.reference;

/** What the person who opened a seeded case (webex:u1) hears when asking for its status. */
function statusAnswer(repository: CaseRepository) {
  const intent = createCaseStatusIntent({ repository, agents: new Agents([]) });
  const inbound = { channel: 'webex', conversationId: 'room', user: { id: 'u1' } };
  return async (reference: string) =>
    (await intent(`status of ${reference}`, {
      conversationKey: 'webex:room',
      inbound,
      identified: async () => inbound,
      locale: 'uk',
      now: CREATED_AT,
      commit: {},
    }))![0]!.key;
}

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

describe('retryAfterMs', () => {
  const headers = (h: Record<string, string>) => new Headers(h);
  const served = Date.parse('2026-11-25T09:00:00.000Z');
  it('reads delta-seconds, or an HTTP date measured against the answer\'s own Date header', () => {
    expect(retryAfterMs(headers({ 'retry-after': '120' }))).toBe(120_000);
    const at = new Date(served + 300_000).toUTCString();
    expect(retryAfterMs(headers({ 'retry-after': at, date: new Date(served).toUTCString() }))).toBe(300_000);
    // Without a Date header, against our clock; a date in the past means "now".
    expect(retryAfterMs(headers({ 'retry-after': at }), served + 240_000)).toBe(60_000);
    expect(retryAfterMs(headers({ 'retry-after': new Date(served - 60_000).toUTCString(), date: new Date(served).toUTCString() }))).toBe(0);
  });
  it('ignores what it cannot read', () => {
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': '-5' }))).toBeUndefined();
    expect(retryAfterMs(headers({}))).toBeUndefined();
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

    it('keeps a case pending through an outage far beyond the retry budget, never failed, and delivers it once when the receiver returns', async () => {
      const { receiver, accepted } = await webhookReceiver(SECRET);
      const url = `${receiver.url}/cases`;
      await receiver.stop(); // connection refused from now on
      const store = await harness.open();
      const repo = new CaseRepository(store);
      const seeded = await seedCase(store);
      const logs = captureLogs<{ level: number; msg: string }>('warn');
      const rejected: string[] = [];
      const o = outbox(store, url, {
        maxAttempts: 3,
        retryBaseMs: 1_000,
        retryMaxMs: 300_000,
        logger: logs.logger,
        onRejected: (record) => rejected.push(record.reference),
      });

      // 15 attempts (five times the budget of 3), each made when the last one said: half an hour down.
      for (let attempt = 1; attempt <= 15; attempt++) {
        expect(await o.runOnce()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
        const d = (await repo.findByReference(seeded.reference))!.delivery;
        expect(d).toMatchObject({ status: 'pending', attempts: attempt });
        expect(d.lastError).toMatch(/^The case webhook could not be reached/);
        const delay = Date.parse(d.nextAttemptAt!) - now.getTime();
        expect(delay).toBe(retryDelayMs(attempt, 1_000, 300_000, () => 0.5));
        expect(delay).toBeLessThanOrEqual(300_000);
        now = new Date(d.nextAttemptAt!);
      }
      expect(now.getTime() - Date.parse(CREATED_AT)).toBeGreaterThan(25 * 60_000); // the old budget ended after 3 s
      expect(await statusAnswer(repo)(seeded.reference)).toBe('cases:status.retrying');
      // The budget only changes how loud the log is: a warning per attempt, then an error per attempt.
      const levels = logs.lines.filter((l) => l.msg.startsWith('case ')).map((l) => l.level);
      expect(levels).toEqual([40, 40, ...Array<number>(13).fill(50)]);

      await receiver.start();
      expect(await o.runOnce()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
      expect((await repo.findByReference(seeded.reference))!.delivery).toMatchObject({ status: 'delivered', attempts: 16, externalId: `TCK-${seeded.reference}` });
      expect(receiver.requests).toHaveLength(1);
      expect(accepted.size).toBe(1);
      expect(attempts).toEqual([...Array<DeliveryOutcome>(15).fill('retrying'), 'delivered']);
      expect(rejected).toEqual([]);
      await receiver.stop();
    });

    it('waits as long as Retry-After asks (seconds, or an HTTP date against the answer\'s Date), never longer than the max delay', async () => {
      const answers = new Map<string, WebhookAnswer>();
      const { receiver } = await webhookReceiver(SECRET, (req) => answers.get(referenceOf(req)) ?? 201);
      const store = await harness.open();
      const repo = new CaseRepository(store);
      const [limited, unavailable, greedy, plain] = [await seedCase(store), await seedCase(store), await seedCase(store), await seedCase(store)];
      // The receiver's clock is an hour behind ours: the HTTP date counts from its Date header.
      const served = Date.parse('2026-11-25T09:00:00.000Z');
      answers
        .set(limited.reference, { status: 429, headers: { 'retry-after': '120' } })
        .set(unavailable.reference, { status: 503, headers: { 'retry-after': new Date(served + 300_000).toUTCString(), date: new Date(served).toUTCString() } })
        .set(greedy.reference, { status: 429, headers: { 'retry-after': '86400' } })
        .set(plain.reference, 503);

      expect(await outbox(store, receiver.url, { retryBaseMs: 1_000, retryMaxMs: 3_600_000 }).runOnce()).toEqual({ delivered: 0, retrying: 4, failed: 0 });
      const waits = async (c: { reference: string }) => Date.parse((await repo.findByReference(c.reference))!.delivery.nextAttemptAt!) - now.getTime();
      expect(await waits(limited)).toBe(120_000);
      expect(await waits(unavailable)).toBe(300_000);
      expect(await waits(greedy)).toBe(3_600_000);
      expect(await waits(plain)).toBe(750); // the backoff alone: 1 s with the jitter pinned at 0.75
      await receiver.stop();
    });

    it('fails a rejected case (400, 422), tells the person the support system rejected it, and tells the others nothing yet', async () => {
      const answers = new Map<string, number>();
      const { receiver } = await webhookReceiver(SECRET, (req) => answers.get(referenceOf(req)) ?? 201);
      const store = await harness.open();
      const repo = new CaseRepository(store);
      const [bad, invalid, busy] = [await seedCase(store), await seedCase(store), await seedCase(store)];
      answers.set(bad.reference, 400).set(invalid.reference, 422).set(busy.reference, 503);
      const told: { conversation: string; lines: string[]; locale: string }[] = [];
      const notifier: ChannelNotifier = {
        notify: async (conversation, lines, locale) => {
          told.push({ conversation, lines, locale });
          return 'sent';
        },
      };
      const notice = new TicketNotice({ notifier, store, translator, logger: silentLogger });

      expect(await outbox(store, receiver.url, { onRejected: notice.onRejected }).runOnce()).toEqual({ delivered: 0, retrying: 1, failed: 2 });
      await notice.drain();
      expect((await repo.findByReference(bad.reference))!.delivery).toMatchObject({ status: 'failed', lastError: 'The case webhook answered HTTP 400' });
      expect((await repo.findByReference(invalid.reference))!.delivery).toMatchObject({ status: 'failed', lastError: 'The case webhook answered HTTP 422' });
      const ask = statusAnswer(repo);
      expect(await ask(bad.reference)).toBe('cases:status.failed');
      expect(await ask(busy.reference)).toBe('cases:status.retrying');
      // Told in the conversation's language (uk), without asking; the busy one is not mentioned.
      expect(told.map((t) => t.conversation).sort()).toEqual([bad.conversationKey, invalid.conversationKey].sort());
      expect(told.find((t) => t.conversation === bad.conversationKey)).toEqual({
        conversation: bad.conversationKey,
        lines: [translator.t('uk', 'proactive:caseRejected', { reference: bad.reference })],
        locale: 'uk',
      });
      expect(translator.t('uk', 'cases:status.failed', { reference: bad.reference })).toMatch(/відхилила/);
      expect(translator.t('en', 'cases:status.failed', { reference: bad.reference })).toMatch(/rejected/);
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

    it('does not let a second worker send a case the first is sending, however often it polls meanwhile', async () => {
      const held = deferred();
      let first = true;
      const { receiver } = await webhookReceiver(SECRET, async () => {
        if (first) {
          first = false;
          await held.promise;
        }
        return 201;
      });
      const seeded = await seedCase(await harness.open());
      const a = outbox(await harness.open(), receiver.url, { workerId: 'A', leaseMs: 60_000 });
      const b = outbox(await harness.open(), receiver.url, { workerId: 'B', leaseMs: 60_000 });

      const passA = a.runOnce();
      await receiver.arrived(1); // A is sending it now, its claim live for 60 s more
      for (const later of [1_000, 30_000, 59_000]) {
        now = new Date(Date.parse(CREATED_AT) + later);
        expect(await b.runOnce()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
      }
      held.resolve();
      expect(await passA).toEqual({ delivered: 1, retrying: 0, failed: 0 });
      expect(await b.runOnce()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
      expect(receiver.requests.map(referenceOf)).toEqual([seeded.reference]);
      await receiver.stop();
    });

    it('does not let a worker whose claim expired record its result over the worker that took the case over', async () => {
      const held = deferred();
      let first = true;
      // The stalled first request ends in a rejection; the second worker's is accepted.
      const { receiver } = await webhookReceiver(SECRET, async () => {
        if (!first) return 201;
        first = false;
        await held.promise;
        return 422;
      });
      const seeded = await seedCase(await harness.open());
      const rejected: string[] = [];
      const a = outbox(await harness.open(), receiver.url, { workerId: 'A', leaseMs: 60_000, onRejected: (r) => rejected.push(r.reference) });
      const b = outbox(await harness.open(), receiver.url, { workerId: 'B', leaseMs: 60_000 });

      const passA = a.runOnce();
      await receiver.arrived(1);
      now = new Date(Date.parse(CREATED_AT) + 61_000); // A's claim has expired; B takes the case
      expect(await b.runOnce()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
      held.resolve();
      expect(await passA).toEqual({ delivered: 0, retrying: 0, failed: 0 });

      const record = (await new CaseRepository(await harness.open()).findByReference(seeded.reference))!;
      expect(record.delivery).toMatchObject({ status: 'delivered', attempts: 1, externalId: `TCK-${seeded.reference}` });
      expect(record.delivery.lastError).toBeUndefined();
      expect(rejected).toEqual([]); // nor is the person told of a rejection
      expect(attempts).toEqual(['delivered']);
    });

    it('renews the claim before each case of a batch, so a stalled first case does not get the rest sent twice', async () => {
      const held = deferred();
      let first = true;
      const { receiver } = await webhookReceiver(SECRET, async () => {
        if (first) {
          first = false;
          await held.promise;
        }
        return 201;
      });
      const store = await harness.open();
      const cases = [await seedCase(store), await seedCase(store)];
      const a = outbox(await harness.open(), receiver.url, { workerId: 'A', leaseMs: 60_000 });
      const b = outbox(await harness.open(), receiver.url, { workerId: 'B', leaseMs: 60_000 });

      const passA = a.runOnce(); // claims both, sends one and stalls on it
      await receiver.arrived(1);
      const stalled = referenceOf(receiver.requests[0]!);
      now = new Date(Date.parse(CREATED_AT) + 61_000);
      expect(await b.runOnce()).toEqual({ delivered: 2, retrying: 0, failed: 0 });
      held.resolve();
      expect(await passA).toEqual({ delivered: 0, retrying: 0, failed: 0 });

      const other = cases.map((c) => c.reference).find((r) => r !== stalled)!;
      // The stalled one went twice (A's lease ran out while it waited); the other one once.
      expect(receiver.requests.map(referenceOf).sort()).toEqual([stalled, stalled, other].sort());
      await receiver.stop();
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
