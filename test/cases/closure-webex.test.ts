/**
 * Issue 21 item 5 in Webex: the app as `npm start` assembles it (WEBEX_BOT_TOKEN against a fake Webex
 * API on loopback) posts "is it solved?" to the person's space as a card with buttons, in their
 * language; the press comes back as an ordinary card submission and is answered; the same update is
 * asked about once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Application } from '../../src/app';
import { signBody } from '../../src/cases/backends/webhook';
import { WebexApi } from '../../src/channels/webex/api';
import { ensureWebhooks } from '../../src/channels/webex/webhooks';
import type { SqlStore } from '../../src/storage';
import { FakeWebex, type FakeMessage } from '../channels/webex/fake-webex';
import { createApp, dataIn, silentLogger, testConfig, testDir } from '../support';
import { seedCase } from './helpers';

const SECRET = 'case-closure-webex-secret-012';
const WEBEX_SECRET = 'webex-secret-0123456789';
let app: Application | undefined;
let fake: FakeWebex | undefined;

afterEach(async () => {
  await app?.close(2_000);
  await fake?.close();
  app = undefined;
  fake = undefined;
});

const unescape = (text: string | undefined) => (text ?? '').replace(/\\(.)/g, '$1');
const cardOf = (m: FakeMessage) => m.attachments?.[0]?.content as { actions?: { title: string; data?: { choice?: string; step?: string } }[] } | undefined;

describe('case closure in Webex', () => {
  it('posts the question with its card in Ukrainian, takes the press as a turn, and asks once', async () => {
    fake = await FakeWebex.start();
    app = await createApp(
      testConfig({
        ...dataIn(testDir('case-closure-webex-').path),
        CASE_BACKEND: 'webhook',
        CASE_WEBHOOK_URL: 'http://127.0.0.1:9/hooks/cases',
        CASE_WEBHOOK_SECRET: SECRET,
        CASE_DELIVERY_POLL_SECONDS: '0.05',
        WEBEX_BOT_TOKEN: fake.token,
        WEBEX_WEBHOOK_SECRET: WEBEX_SECRET,
        WEBEX_API_URL: fake.url,
        WEBCHAT_ENABLED: 'false',
      }),
    );
    const { url } = await app.listen(0, '127.0.0.1');
    await ensureWebhooks(new WebexApi({ baseUrl: fake.url, token: fake.token, logger: silentLogger }), { publicUrl: url, secret: WEBEX_SECRET });
    const room = fake.room('direct');
    const person = fake.person('Оксана', 'oksana@partner.example');
    await fake.userSays(room, person, 'лист активації не прийшов');
    await vi.waitFor(() => expect(fake!.visible(room.id).length).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
    const record = await seedCase(app.store as SqlStore, {
      conversationKey: `webex:${room.id}`,
      channel: 'webex',
      locale: 'uk',
      delivery: { backend: 'webhook', status: 'delivered', attempts: 1, deliveredAt: '2026-11-25T10:01:00.000Z' },
    });
    const body = JSON.stringify({ eventId: 'evt-webex-closure', reference: record.reference, status: 'resolved', message: 'Контакт змінено.' });
    const send = () => fetch(`${url}/api/cases/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature-256': signBody(body, SECRET) }, body });

    const before = fake.posted.length;
    expect((await send()).status).toBe(200);
    await vi.waitFor(() => expect(fake!.posted.slice(before).some((m) => cardOf(m))).toBe(true), { timeout: 10_000, interval: 20 });
    await vi.waitFor(async () => expect(await app!.cases.updates.countUntold()).toBe(0), { timeout: 10_000, interval: 20 });
    const question = fake.posted.slice(before).find((m) => cardOf(m))!;
    const told = unescape(question.markdown);
    expect(told).toContain(`Команда підтримки позначила ваше звернення ${record.reference} як вирішене.`);
    expect(told).toContain('Контакт змінено.');
    expect(told).toContain('Проблему вже розв’язано?');
    expect(cardOf(question)!.actions!.map((a) => [a.title, a.data?.choice])).toEqual([
      ['Так, розв’язано', 'worked'],
      ['Ні, ще ні', 'failed'],
    ]);
    // The guide's earlier card was retired: only the question's buttons act now.
    expect(fake.visible(room.id).filter((m) => cardOf(m))).toEqual([question]);

    await fake.userSubmits(room, person, question.id, { choice: 'worked', step: 'closureAsk' });
    await vi.waitFor(() => expect(unescape(fake!.visible(room.id).map((m) => m.markdown).join('\n'))).toContain('Чудово, радий, що все вдалося.'), {
      timeout: 10_000,
      interval: 20,
    });
    // Back at the question the person stood at, with its buttons.
    expect(unescape(fake.visible(room.id).at(-1)!.markdown)).toContain('Лист знайшовся?');

    const after = fake.posted.length;
    expect((await send()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.posted.length).toBe(after);
  });
});
