/**
 * Additions pushed by two instances on one PostgreSQL schema: both workers claim at the same time
 * while the receiver answers slowly, and each addition reaches it exactly once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CaseAdditionsOutbox } from '../../src/cases/additions-outbox';
import { CaseAdditionsRepository } from '../../src/cases/additions-repository';
import { createWebhookBackend } from '../../src/cases/backends/webhook';
import { CaseRepository } from '../../src/cases/repository';
import { postgresHarness } from '../storage/harness';
import { silentLogger } from '../support';
import { CREATED_AT, seedCase, webhookReceiver } from './helpers';

const SECRET = 'additions-multi-instance-secret';
const pg = postgresHarness();
afterAll(() => pg.cleanup());

describe('case additions on PostgreSQL with two instances', () => {
  it('pushes each addition once while both workers run at the same time', async () => {
    const { receiver } = await webhookReceiver(SECRET, () => new Promise((r) => setTimeout(() => r(200), 20)));
    try {
      const [one, two] = [await pg.open(), await pg.open()];
      const record = await seedCase(one, { delivery: { backend: 'webhook', status: 'delivered', attempts: 1, deliveredAt: CREATED_AT } });
      const count = 12;
      const additions = new CaseAdditionsRepository(one);
      await one.commitTurn({
        conversation: { key: record.conversationKey, channel: 'webex', flowId: 'support-case', flowVersion: 1, snapshot: null, locale: 'uk', parents: [], turn: 2, userId: 'u1', createdAt: CREATED_AT, updatedAt: CREATED_AT },
        transcript: [],
        caseAdditions: Array.from({ length: count }, (_, i) => ({
          id: `addition-${i}`,
          reference: record.reference,
          conversationKey: record.conversationKey,
          addedBy: 'webex:u1',
          backend: 'webhook',
          text: `note ${i}`,
          attachments: [],
          createdAt: CREATED_AT,
        })),
      });
      const backend = createWebhookBackend({ url: receiver.url, secret: SECRET });
      const worker = (store: typeof one, name: string) =>
        new CaseAdditionsOutbox({
          additions: new CaseAdditionsRepository(store),
          cases: new CaseRepository(store),
          backend,
          logger: silentLogger,
          pollMs: 10,
          leaseMs: 60_000,
          retryBaseMs: 10,
          retryMaxMs: 10,
          batchSize: 3,
          workerId: name,
          clock: () => new Date('2026-11-26T09:00:00.000Z'),
        });
      const [a, b] = [worker(one, 'a'), worker(two, 'b')];
      for (let round = 0; round < 10 && (await additions.countByStatus('pending')) > 0; round++) await Promise.all([a.runOnce(), b.runOnce()]);

      expect(await additions.countByStatus('delivered')).toBe(count);
      const keys = receiver.requests.map((r) => String(r.headers['idempotency-key']));
      expect(keys).toHaveLength(count);
      expect(new Set(keys).size).toBe(count);
      expect((await additions.forCase(record.reference)).every((x) => x.attempts === 1)).toBe(true);
    } finally {
      await receiver.stop();
    }
  });
});
