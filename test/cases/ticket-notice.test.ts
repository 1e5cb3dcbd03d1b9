/**
 * The ticket id notice in Webex and in the web chat: a confirmed case (committed as a turn commits
 * it) is delivered by the running app's worker to a real signed-webhook receiver, whose answer
 * carries the ticket id, and the person's conversation gets the notice in the case's language
 * without writing again: a post to the Webex room (fake Webex API on loopback), a bot message in
 * the Direct Line stream (read back over HTTP as Web Chat polls it).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createTranslator } from '../../src/i18n';
import type { SqlStore } from '../../src/storage';
import { FakeWebex } from '../channels/webex/fake-webex';
import { DirectLineTestClient } from '../channels/directline/harness';
import { seedCase } from './helpers';
import { useWebhookApp } from './webhook-app';
import { captureLogs } from '../support';

const t = createTranslator();
/** What the receiver answers in the current test. */
let answer = 201;
const env = useWebhookApp('ticket-notice-webhook-secret', 'ticket-notice-', () => answer);
beforeEach(() => {
  answer = 201;
});

describe('the ticket id, told without being asked', () => {
  it('Webex: posted to the room in the conversation language', async () => {
    const fake = await FakeWebex.start();
    try {
      const app = await env.start({
        WEBEX_BOT_TOKEN: fake.token,
        WEBEX_WEBHOOK_SECRET: 'webex-secret-0123456789',
        WEBEX_API_URL: fake.url,
        WEBCHAT_ENABLED: 'false',
      });
      const room = fake.room('direct');
      const record = await seedCase(app.store as SqlStore, { conversationKey: `webex:${room.id}`, channel: 'webex', locale: 'uk' });
      await app.listen(0, '127.0.0.1');

      const expected = t.t('uk', 'proactive:ticket', { reference: record.reference, externalId: `TCK-${record.reference}` });
      await vi.waitFor(() => expect(fake.visible(room.id)).toHaveLength(1), { timeout: 10_000, interval: 20 });
      const posted = fake.visible(room.id)[0]!;
      // Markdown-escaped as every Webex note; the words are the locale's.
      expect(String(posted.markdown).replace(/\\(.)/g, '$1')).toBe(expected);
    } finally {
      await env.close();
      await fake.close();
    }
  });

  it('Web Chat: appended to the Direct Line stream the browser polls', async () => {
    const app = await env.start({ WEBCHAT_ENABLED: 'true' });
    const { url } = await app.listen(0, '127.0.0.1');
    const client = new DirectLineTestClient(url);
    const conversation = await client.startOk();
    const before = await client.getOk(conversation);

    const record = await seedCase(app.store as SqlStore, { conversationKey: `directline:${conversation.conversationId}`, channel: 'directline', locale: 'en' });

    const expected = t.t('en', 'proactive:ticket', { reference: record.reference, externalId: `TCK-${record.reference}` });
    await vi.waitFor(
      async () => {
        const { activities } = await client.getOk(conversation, before.watermark);
        expect(activities.map((a) => a.text)).toEqual([expected]);
        expect(activities[0]!.from.role).toBe('bot');
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it('a conversation no channel can reach (no stored reference) is logged as unreachable: the next message shows the id', async () => {
    const logs = captureLogs('info');
    const app = await env.start({ WEBCHAT_ENABLED: 'false' }, logs.logger);
    const record = await seedCase(app.store as SqlStore, { conversationKey: 'msteams:a:never-seen', channel: 'msteams', locale: 'en' });
    await app.listen(0, '127.0.0.1');
    await vi.waitFor(async () => expect((await app.cases!.repository.findByReference(record.reference))!.delivery.status).toBe('delivered'), {
      timeout: 10_000,
      interval: 20,
    });
    await env.close();
    const notice = logs.lines.find((l) => l.msg === 'case notice');
    expect(notice).toMatchObject({ case: record.reference, notice: 'ticket', result: 'unreachable' });
  });

  it('Web Chat: a case the support system rejected is told as rejected, in the conversation\'s current language', async () => {
    answer = 422;
    const app = await env.start({ WEBCHAT_ENABLED: 'true' });
    const { url } = await app.listen(0, '127.0.0.1');
    const client = new DirectLineTestClient(url);
    const conversation = await client.startOk();
    const before = await client.getOk(conversation);

    const record = await seedCase(app.store as SqlStore, { conversationKey: `directline:${conversation.conversationId}`, channel: 'directline', locale: 'uk' });

    // The case was opened in Ukrainian; the conversation is in English now, and that is what counts.
    const expected = t.t('en', 'proactive:caseRejected', { reference: record.reference });
    expect(expected).toContain('rejected');
    await vi.waitFor(
      async () => {
        const { activities } = await client.getOk(conversation, before.watermark);
        expect(activities.map((a) => a.text)).toEqual([expected]);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect((await app.cases!.repository.findByReference(record.reference))!.delivery).toMatchObject({ status: 'failed', lastError: 'The case webhook answered HTTP 422' });
  });
});
