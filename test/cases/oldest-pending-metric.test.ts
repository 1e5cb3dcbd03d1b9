/**
 * `pce_bot_case_outbox_oldest_pending_age_seconds`: how long the oldest case still waiting for its
 * backend has waited since it was opened, read from a real store (SQLite and PostgreSQL) at scrape
 * time, and wired into the assembled app's /metrics.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCases } from '../../src/cases/index';
import { loadConfig } from '../../src/config';
import { createMetrics } from '../../src/metrics/metrics';
import { CaseRepository } from '../../src/cases/repository';
import type { SqlStore } from '../../src/storage/index';
import { fixtureTranslator } from '../dialogs/support-case/fixture-entry';
import { postgresHarness, sqliteHarness, type StoreHarness } from '../storage/harness';
import { CREATED_AT, seedCase } from './helpers';
import { useWebhookApp } from './webhook-app';
import { silentLogger } from '../support';

const METRIC = 'pce_bot_case_outbox_oldest_pending_age_seconds';
const HOUR = 3_600_000;

function sample(text: string): number | undefined {
  const m = new RegExp(`^${METRIC} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`the oldest pending case's age on ${dialect}`, () => {
    let harness: StoreHarness;
    let store: SqlStore;
    beforeEach(async () => {
      harness = dialect === 'sqlite' ? sqliteHarness() : postgresHarness();
      store = await harness.open();
    });
    afterEach(() => harness.cleanup());

    it('is the age of the oldest case still waiting, and 0 when none waits', async () => {
      let now = new Date(Date.parse(CREATED_AT) + 2 * HOUR);
      const config = loadConfig({ CASE_BACKEND: 'webhook', CASE_WEBHOOK_URL: 'http://127.0.0.1:9/cases', CASE_WEBHOOK_SECRET: 'oldest-pending-secret-0123' });
      const cases = createCases({ config, store, translator: fixtureTranslator(), logger: silentLogger, outbox: { clock: () => now } });
      const metrics = createMetrics({ processMetrics: false });
      metrics.setOldestPendingCaseSource(cases.oldestPendingAgeSeconds);
      const scrape = async () => sample((await metrics.render()).body);

      expect(await scrape()).toBe(0);
      const oldest = await seedCase(store);
      await seedCase(store, { createdAt: new Date(Date.parse(CREATED_AT) + HOUR).toISOString() });
      expect(await scrape()).toBe(7200);
      now = new Date(now.getTime() + 90_000);
      expect(await scrape()).toBe(7290);

      // Once the oldest reaches its backend, the next one is the oldest waiting.
      const repo = new CaseRepository(store);
      await repo.claimDue({ workerId: 'w', now, leaseMs: 60_000, limit: 1 });
      expect(await repo.markDelivered(oldest.reference, 'w', { at: now })).toBe(true);
      expect(await scrape()).toBe(3690);
    });
  });
}

describe('the oldest pending case\'s age in the assembled app', () => {
  const env = useWebhookApp('oldest-pending-app-secret-0123', 'oldest-pending-');

  it('is exported next to the pending count', async () => {
    const app = await env.start();
    expect(sample((await app.metrics.render()).body)).toBe(0);
    await seedCase(app.store as SqlStore); // opened at CREATED_AT, in the past; the worker is not running
    const body = (await app.metrics.render()).body;
    expect(sample(body)).toBeGreaterThan(0);
    expect(body).toMatch(/^pce_bot_case_outbox_pending 1$/m);
  });
});
