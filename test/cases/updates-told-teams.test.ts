/**
 * A case update told in Teams: over real HTTP with the fake connector, the assembled app sends it
 * to the person's conversation through the conversation reference kept from their last turn, as a
 * new message (not a reply), in their language, once; a repeat of the event sends nothing.
 */
import { describe, expect, it, vi } from 'vitest';
import { signBody } from '../../src/cases/backends/webhook';
import type { SqlStore } from '../../src/storage';
import { Person, useBotsPerTest, useFakeConnector } from '../channels/botframework/harness';
import { seedCase } from './helpers';

const SECRET = 'case-updates-teams-secret-0123';
const connector = useFakeConnector();
const bots = useBotsPerTest();

describe('a case update in Teams', () => {
  it('arrives proactively in English, once', async () => {
    const { app, url } = await bots.start({
      env: { CASE_BACKEND: 'webhook', CASE_WEBHOOK_URL: 'http://127.0.0.1:9/hooks/cases', CASE_WEBHOOK_SECRET: SECRET, CASE_DELIVERY_POLL_SECONDS: '0.05' },
    });
    const person = new Person(url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const record = await seedCase(app.store as SqlStore, {
      conversationKey: person.key,
      channel: 'msteams',
      locale: 'en',
      delivery: { backend: 'webhook', status: 'delivered', attempts: 1, deliveredAt: '2026-11-25T10:01:00.000Z' },
    });
    const before = connector.sentTo(person.conversationId).length;
    // Not "resolved" or "closed": those ask whether the problem is solved (closure-teams.test.ts).
    const body = JSON.stringify({ eventId: 'evt-teams-1', reference: record.reference, status: 'in_progress', message: 'Done: the new contact gets the email.' });
    const send = () => fetch(`${url}/api/cases/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature-256': signBody(body, SECRET) }, body });

    expect((await send()).status).toBe(200);
    await vi.waitFor(() => expect(connector.sentTo(person.conversationId).length).toBe(before + 1), { timeout: 10_000, interval: 20 });
    const told = connector.sentTo(person.conversationId).at(-1)!;
    expect(told.inReplyTo).toBeUndefined();
    const text = String(told.activity.text).replace(/\\(.)/g, '$1');
    expect(text).toContain(`Update on your support case ${record.reference}: an engineer is working on it.`);
    expect(text).toContain('The support engineer wrote: “Done: the new contact gets the email.”');

    expect((await send()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(connector.sentTo(person.conversationId)).toHaveLength(before + 1);
  });
});
