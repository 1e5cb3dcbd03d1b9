/**
 * A case update told in Webex: the assembled app (CASE_BACKEND=webhook, Webex on against a fake
 * Webex API on loopback) posts it to the case's space in the conversation's language, once, and a
 * repeat of the event posts nothing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Application } from '../../src/app';
import { signBody } from '../../src/cases/backends/webhook';
import type { SqlStore } from '../../src/storage';
import { FakeWebex } from '../channels/webex/fake-webex';
import { createApp, dataIn, testConfig, testDir } from '../support';
import { seedCase } from './helpers';

const SECRET = 'case-updates-webex-secret-012';
let app: Application | undefined;
let fake: FakeWebex | undefined;

afterEach(async () => {
  await app?.close(2_000);
  await fake?.close();
  app = undefined;
  fake = undefined;
});

describe('a case update in Webex', () => {
  it('is posted to the space in Ukrainian, once', async () => {
    fake = await FakeWebex.start();
    app = await createApp(
      testConfig({
        ...dataIn(testDir('case-updates-webex-').path),
        CASE_BACKEND: 'webhook',
        CASE_WEBHOOK_URL: 'http://127.0.0.1:9/hooks/cases',
        CASE_WEBHOOK_SECRET: SECRET,
        CASE_DELIVERY_POLL_SECONDS: '0.05',
        WEBEX_BOT_TOKEN: fake.token,
        WEBEX_WEBHOOK_SECRET: 'webex-secret-0123456789',
        WEBEX_API_URL: fake.url,
        WEBCHAT_ENABLED: 'false',
      }),
    );
    const room = fake.room('direct');
    const record = await seedCase(app.store as SqlStore, {
      conversationKey: `webex:${room.id}`,
      channel: 'webex',
      locale: 'uk',
      delivery: { backend: 'webhook', status: 'delivered', attempts: 1, deliveredAt: '2026-11-25T10:01:00.000Z' },
    });
    const { url } = await app.listen(0, '127.0.0.1');
    // Not "resolved" or "closed": those ask whether the problem is solved (closure-webex.test.ts).
    const body = JSON.stringify({ eventId: 'evt-webex-1', reference: record.reference, status: 'in_progress', message: 'Контакт змінено.' });
    const send = () => fetch(`${url}/api/cases/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature-256': signBody(body, SECRET) }, body });

    expect((await send()).status).toBe(200);
    await vi.waitFor(() => expect(fake!.visible(room.id)).toHaveLength(1), { timeout: 10_000, interval: 20 });
    const posted = String(fake.visible(room.id)[0]!.markdown).replace(/\\(.)/g, '$1');
    expect(posted).toContain(`Новини щодо вашого звернення ${record.reference}: інженер підтримки працює над ним.`);
    expect(posted).toContain('Інженер підтримки написав: «Контакт змінено.»');

    expect((await send()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.visible(room.id)).toHaveLength(1);
  });
});
