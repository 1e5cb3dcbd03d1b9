/**
 * "Status of PCE-…" once the support system has reported back: the latest status first, then the
 * history (UTC times and statuses, the ten most recent, older ones counted), never the notes; to
 * the person who opened the case only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Application } from '../../src/app';
import type { TurnScope } from '../../src/engine/scope';
import type { SqlStore } from '../../src/storage';
import { createApp, dataIn, testConfig, testDir } from '../support';
import { seedCase } from './helpers';

let app: Application | undefined;
afterEach(async () => {
  await app?.close(2_000);
  app = undefined;
});

function scope(userId: string, locale: 'en' | 'uk'): TurnScope {
  const inbound = { channel: 'webex', conversationId: `elsewhere-${userId}`, user: { id: userId } };
  return { conversationKey: `webex:elsewhere-${userId}`, inbound, identified: async () => inbound, locale, now: new Date().toISOString(), commit: {} };
}

describe('status of a case with updates', () => {
  it('shows the live status and the ten latest updates, in Ukrainian, without the notes', async () => {
    app = await createApp(testConfig({ ...dataIn(testDir('case-updates-intent-').path), CASE_BACKEND: 'webhook', CASE_WEBHOOK_URL: 'http://127.0.0.1:9/x', CASE_WEBHOOK_SECRET: 'intent-secret-0123456789' }));
    // seedCase opens the case as webex:u1.
    const record = await seedCase(app.store as SqlStore, { delivery: { backend: 'webhook', status: 'delivered', attempts: 1, deliveredAt: '2026-11-25T10:01:00.000Z' } });
    const statuses = ['open', 'in_progress', 'waiting_for_customer', 'in_progress', 'waiting_for_customer', 'in_progress', 'waiting_for_customer', 'in_progress', 'waiting_for_customer', 'in_progress', 'resolved', 'closed'] as const;
    for (const [i, status] of statuses.entries()) {
      const at = new Date(Date.UTC(2026, 11, 1, 9, i));
      expect(await app.cases.updates.record({ backend: 'webhook', eventId: `e${i}`, reference: record.reference, status, message: `note ${i}` }, at)).toBe('stored');
    }

    const lines = (await app.cases.intent(`який статус ${record.reference}`, scope('u1', 'uk')))!;
    const text = lines.map((l) => app!.translator.t('uk', l.key, l.params)).join('\n');
    expect(text).toBe(
      [
        `Звернення ${record.reference} закрите.`,
        'Що відбувалося досі:',
        '2026-12-01 09:02 UTC: чекає на вашу відповідь',
        '2026-12-01 09:03 UTC: інженер підтримки працює над ним',
        '2026-12-01 09:04 UTC: чекає на вашу відповідь',
        '2026-12-01 09:05 UTC: інженер підтримки працює над ним',
        '2026-12-01 09:06 UTC: чекає на вашу відповідь',
        '2026-12-01 09:07 UTC: інженер підтримки працює над ним',
        '2026-12-01 09:08 UTC: чекає на вашу відповідь',
        '2026-12-01 09:09 UTC: інженер підтримки працює над ним',
        '2026-12-01 09:10 UTC: вирішене',
        '2026-12-01 09:11 UTC: закрите',
        '(і ще 2 попередні оновлення)',
      ].join('\n'),
    );
    expect(text).not.toContain('note');

    // Anyone else hears "not found", as for a reference that does not exist.
    expect(await app.cases.intent(`status of ${record.reference}`, scope('someone-else', 'en'))).toEqual([{ key: 'cases:status.notFound', params: { reference: record.reference } }]);
  });
});
