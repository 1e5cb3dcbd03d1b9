/**
 * Teams, over real HTTP with the fake connector: the person's email looked up from the connector
 * (`GET /v3/conversations/{id}/members/{userId}`) reaches the case, and the external ticket id that a
 * local signed-webhook case receiver returns is sent to the conversation proactively, in its language,
 * without the person writing again.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BotConversationsRepository } from '../../../src/channels/botframework/conversations-repository';
import type { SqlStore } from '../../../src/storage';
import { createTranslator } from '../../../src/i18n';
import { seedCase, webhookReceiver } from '../../cases/helpers';
import { Person, useBotsPerTest, useFakeConnector, type BotUnderTest } from './harness';

const t = createTranslator();
const SECRET = 'proactive-test-webhook-secret';
const connector = useFakeConnector();
const bots = useBotsPerTest();
let receiver: Awaited<ReturnType<typeof webhookReceiver>>;

beforeAll(async () => {
  receiver = await webhookReceiver(SECRET);
});
afterAll(async () => {
  await receiver.receiver.stop();
});

function start(): Promise<BotUnderTest> {
  return bots.start({
    env: {
      CASE_BACKEND: 'webhook',
      CASE_WEBHOOK_URL: `${receiver.receiver.url}/cases`,
      CASE_WEBHOOK_SECRET: SECRET,
      CASE_DELIVERY_POLL_SECONDS: '0.05',
    },
  });
}

/** Walks the real flow to a confirmed case, as Teams card presses and typed answers. */
async function openCase(person: Person): Promise<void> {
  await person.join();
  for (const id of ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed', 'none_helped']) await person.choose(id);
  for (const answer of ['SO 12345678', 'Sub204060', 'old.contact@customer.example', 'new.contact@customer.example']) await person.say(answer);
  await person.choose('attachments_done');
  await person.choose('confirm');
}

describe('Teams: who the person is, and the ticket id without asking', () => {
  it.each([
    { locale: 'uk' as const, clientLocale: 'uk-UA' },
    { locale: 'en' as const, clientLocale: 'en-US' },
  ])('($locale) the case carries the looked-up email, and the ticket id arrives proactively', async ({ locale, clientLocale }) => {
    const { app, url } = await start();
    const person = new Person(url, { channelId: 'msteams', locale: clientLocale, connector });
    connector.members.set(person.userId, {
      id: person.userId,
      name: 'Olena Partner',
      givenName: 'Olena',
      email: 'olena@partner.example',
      userPrincipalName: 'olena@partner.example',
      tenantId: 'tenant-1',
    });

    await openCase(person);

    const stored = (await app.cases!.repository.findByReference('PCE-000001'))!;
    expect(stored.openedBy).toMatchObject({ kind: 'person', name: 'Olena Partner', email: 'olena@partner.example' });
    // One look-up for the whole conversation: the directory remembers the person.
    expect(connector.memberLookups.filter((l) => l.userId === person.userId)).toHaveLength(1);

    const expected = t.t(locale, 'proactive:ticket', { reference: 'PCE-000001', externalId: 'TCK-PCE-000001' });
    const answered = connector.sentTo(person.conversationId).length;
    await vi.waitFor(() => expect(connector.sentTo(person.conversationId).length).toBeGreaterThan(answered), { timeout: 10_000, interval: 20 });
    const notice = connector.sentTo(person.conversationId).at(-1)!;
    expect(notice.inReplyTo).toBeUndefined(); // a new message, not a reply to the last activity
    expect(String(notice.activity.text)).toBe(expected.replace(/[\\`*_[\]<>]/g, (c) => `\\${c}`));
    expect(notice.activity.conversation).toMatchObject({ id: person.conversationId });
    expect(notice.activity.recipient).toMatchObject({ id: person.userId });
    expect(receiver.accepted.has('PCE-000001')).toBe(true);
  });

  it('a returning person is not looked up again in the middle of a run, even by a restarted bot; a new run and the case are', async () => {
    const first = await start();
    const person = new Person(first.url, { channelId: 'msteams', locale: 'en-US', connector });
    connector.members.set(person.userId, { id: person.userId, name: 'Olena Partner', email: 'olena@partner.example' });
    const lookups = () => connector.memberLookups.filter((l) => l.userId === person.userId).length;

    await person.join();
    for (const id of ['change_contact', 'awaiting']) await person.choose(id);
    expect(lookups()).toBe(1);
    // A new process remembers nobody: the person's next answers need no look-up, the run knows them.
    await first.stop();
    const second = await start();
    person.reconnect(second.url);
    for (const id of ['can_edit', 'not_onboarded', 'failed', 'none_helped']) await person.choose(id);
    for (const answer of ['SO 12345678', 'Sub204060', 'old.contact@customer.example', 'new.contact@customer.example']) await person.say(answer);
    await person.choose('attachments_done');
    expect(lookups()).toBe(1);
    await person.choose('confirm');
    // Opening the case asks for who the person is (once: remembered from then on).
    expect(lookups()).toBe(2);
    const stored = (await second.app.cases!.repository.findByReference('PCE-000001'))!;
    expect(stored.openedBy).toMatchObject({ kind: 'person', name: 'Olena Partner', email: 'olena@partner.example' });

    await second.stop();
    const third = await start();
    person.reconnect(third.url);
    await person.say('start over'); // a new run: the person is looked up
    expect(lookups()).toBe(3);
  });

  it('a failing member look-up does not stop the turn, and is not repeated on every message', async () => {
    const { url } = await start();
    connector.failMembers = 403;
    const person = new Person(url, { channelId: 'msteams', locale: 'en-US', connector });

    const joined = await person.join();
    expect(joined.status).toBe(200);
    expect(joined.replies).toHaveLength(1);
    const pressed = await person.choose('change_contact');
    expect(pressed.replies).toHaveLength(1);

    expect(connector.memberLookups.filter((l) => l.userId === person.userId)).toHaveLength(1);
  });

  it('stores the conversation reference of a live turn, and none for expectReplies', async () => {
    const { app, url } = await start();
    const live = new Person(url, { channelId: 'msteams', locale: 'en-US', connector });
    const inBody = new Person(url, { channelId: 'emulator', locale: 'en-US' });
    await live.join();
    await inBody.join();

    const repository = new BotConversationsRepository(app.store as SqlStore);
    expect(await repository.findReference(live.key)).toMatchObject({
      channelId: 'msteams',
      serviceUrl: connector.url,
      conversation: { id: live.conversationId },
      user: { id: live.userId },
    });
    expect(await repository.findReference(inBody.key)).toBeUndefined();
  });

  it('a notice the connector does not take is kept and shown first on the next turn', async () => {
    const { app, url } = await start();
    const person = new Person(url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const attemptsBefore = connector.postAttempts.length;
    connector.failPosts = 4; // the send and the connector client's three retries

    const record = await seedCase(app.store as SqlStore, { conversationKey: person.key, channel: 'msteams', locale: 'en' });
    await vi.waitFor(() => expect(connector.postAttempts.length - attemptsBefore).toBe(4), { timeout: 15_000, interval: 50 });
    const repository = new BotConversationsRepository(app.store as SqlStore);
    await vi.waitFor(async () => expect(await repository.undelivered(person.key)).toHaveLength(1), { timeout: 5_000, interval: 20 });

    const next = await person.say('help');
    const notice = t.t('en', 'proactive:ticket', { reference: record.reference, externalId: `TCK-${record.reference}` });
    expect(next.replies[0]!.text).toBe(t.t('en', 'proactive:undeliveredNote'));
    expect(next.replies[1]!.text.replace(/\\(.)/g, '$1')).toBe(notice);
    expect(next.replies).toHaveLength(3);
    expect(await repository.undelivered(person.key)).toEqual([]);
  });
});
