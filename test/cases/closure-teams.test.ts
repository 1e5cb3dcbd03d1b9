/**
 * Issue 21 item 5 in Teams, over real HTTP with the fake connector: the case's first resolved or
 * closed update comes as a card of its own ("is it solved?", with buttons) in the person's language,
 * a new message in their chat; a press is an ordinary turn; the same update is asked about once,
 * across a restart too, and a conversation retention deleted is dropped quietly.
 */
import { describe, expect, it, vi } from 'vitest';
import { signBody } from '../../src/cases/backends/webhook';
import type { SqlStore } from '../../src/storage';
import { parseReply, Person, useBotsPerTest, useFakeConnector, type BotUnderTest } from '../channels/botframework/harness';
import { REOPEN_TEXT } from '../../src/cases/reopen';
import { seedCase } from './helpers';

const SECRET = 'case-closure-teams-secret-0123';
const ENV = { CASE_BACKEND: 'webhook', CASE_WEBHOOK_URL: 'http://127.0.0.1:9/hooks/cases', CASE_WEBHOOK_SECRET: SECRET, CASE_DELIVERY_POLL_SECONDS: '0.05' };
const connector = useFakeConnector();
const bots = useBotsPerTest();

const unescape = (text: string) => text.replace(/\\(.)/g, '$1');

async function caseFor(bot: BotUnderTest, person: Person, locale: 'en' | 'uk') {
  return seedCase(bot.app.store as SqlStore, {
    conversationKey: person.key,
    channel: 'msteams',
    locale,
    // Opened by the person of the chat: only they (or an agent) may ask for it to be reopened.
    openedBy: { kind: 'person', userKey: `msteams:${person.userId}`, name: 'Olena Partner' },
    delivery: { backend: 'webhook', status: 'delivered', attempts: 1, deliveredAt: '2026-11-25T10:01:00.000Z' },
  });
}

function postEvent(url: string, body: Record<string, unknown>): Promise<Response> {
  const raw = JSON.stringify(body);
  return fetch(`${url}/api/cases/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature-256': signBody(raw, SECRET) }, body: raw });
}

/** Waits until the connector has `count` messages for the person, and returns the last one as shown. */
async function messageNumber(person: Person, count: number) {
  await vi.waitFor(() => expect(connector.messagesTo(person.conversationId).length).toBe(count), { timeout: 10_000, interval: 20 });
  const sent = connector.messagesTo(person.conversationId).at(-1)!;
  return { sent, reply: parseReply(sent.activity, sent.id) };
}

describe('case closure in Teams', () => {
  it('asks in English with buttons, and "Yes, solved" puts the person back at their question', async () => {
    const bot = await bots.start({ env: ENV });
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const record = await caseFor(bot, person, 'en');
    const before = connector.messagesTo(person.conversationId).length;

    expect((await postEvent(bot.url, { eventId: 'evt-1', reference: record.reference, status: 'resolved', ticketId: 'SR 694512', message: 'Done: the new contact gets the email.' })).status).toBe(200);
    const { sent, reply } = await messageNumber(person, before + 1);
    expect(sent.inReplyTo).toBeUndefined();
    expect(unescape(reply.text)).toContain(`Support has marked your case ${record.reference} as resolved.`);
    expect(unescape(reply.text)).toContain('Ticket: SR 694512');
    expect(unescape(reply.text)).toContain("Support engineer's note: Done: the new contact gets the email.");
    expect(reply.text).toContain('Is the problem solved now?');
    expect(reply.choices.map((c) => [c.label, c.data?.choice])).toEqual([
      ['Yes, solved', 'worked'],
      ["No, it isn't", 'failed'],
    ]);

    const yes = await person.pressOn(reply, reply.choices[0]!);
    expect(yes.replies.map((r) => unescape(r.text)).join('\n')).toContain("Great, I'm glad it's solved.");
    expect(yes.replies.at(-1)!.text).toContain('What do you need?');
    // The pressed card shows the answer and has no buttons any more (the invoke's answer replaces it).
    expect(yes.refreshed?.actions).toEqual([]);
    expect(JSON.stringify(yes.refreshed)).toContain('Yes, solved');
    expect(await bot.app.cases.updates.countUntold()).toBe(0);
  });

  it('asks in Ukrainian, offers a reopen or a new case, and a later "closed" is news, not a second question', async () => {
    const bot = await bots.start({ env: ENV });
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'uk-UA', connector });
    await person.join();
    const record = await caseFor(bot, person, 'uk');
    const before = connector.messagesTo(person.conversationId).length;

    await postEvent(bot.url, { eventId: 'evt-uk-1', reference: record.reference, status: 'closed' });
    const { reply } = await messageNumber(person, before + 1);
    expect(unescape(reply.text)).toContain(`Команда підтримки закрила ваше звернення ${record.reference}.`);
    expect(reply.choices.map((c) => c.label)).toEqual(['Так, розв’язано', 'Ні, ще ні']);
    const no = await person.pressOn(reply, reply.choices[1]!);
    expect(unescape(no.replies.at(-1)!.text)).toContain(`Попросити підтримку знову відкрити звернення ${record.reference}`);
    expect(no.replies.at(-1)!.choices.map((c) => c.data?.choice)).toEqual(['reopen', 'new_case']);
    // "Відкрити знову" reaches the support system as an addition to the case, kept for its outbox.
    const reopen = await person.pressOn(no.replies.at(-1)!, no.replies.at(-1)!.choices[0]!);
    expect(unescape(reopen.replies.map((r) => r.text).join('\n'))).toContain(`я попросив підтримку знову відкрити звернення ${record.reference}`);
    expect((await bot.app.cases.additions.forCase(record.reference)).map((a) => a.text)).toEqual([REOPEN_TEXT]);

    await postEvent(bot.url, { eventId: 'evt-uk-2', reference: record.reference, status: 'resolved', message: 'Ще раз перевірили.' });
    const news = await messageNumber(person, before + 4);
    expect(unescape(String(news.sent.activity.text))).toContain(`Новини щодо вашого звернення ${record.reference}: вирішене.`);
    expect(news.reply.choices).toEqual([]);
  });

  it('"No" then "Open a new case" files a new case with what was known, not the closed one again', async () => {
    const bot = await bots.start({ env: ENV });
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const record = await caseFor(bot, person, 'en');
    const before = connector.messagesTo(person.conversationId).length;
    await postEvent(bot.url, { eventId: 'evt-new-1', reference: record.reference, status: 'resolved' });
    const { reply } = await messageNumber(person, before + 1);
    const no = await person.pressOn(reply, reply.choices[1]!);
    const offer = no.replies.at(-1)!;
    let turn = await person.pressOn(offer, offer.choices.find((c) => c.data?.choice === 'new_case')!);
    // The intake has what is known: only the files step and the confirmation are left.
    for (let i = 0; i < 5 && (await bot.app.cases.repository.listByConversation(record.conversationKey)).length < 2; i++) {
      const card = turn.replies.at(-1)!;
      const confirm = card.choices.find((c) => c.data?.choice === 'confirm') ?? card.choices.find((c) => c.data?.choice === 'attachments_done');
      if (!confirm) break;
      turn = await person.pressOn(card, confirm);
    }
    const cases = await bot.app.cases.repository.listByConversation(record.conversationKey);
    expect(cases).toHaveLength(2);
    const fresh = cases.find((c) => c.reference !== record.reference)!;
    expect(fresh.orderNumber).toBe(record.orderNumber);
    expect(fresh.newContactEmail).toBe(record.newContactEmail);
    expect(turn.replies.map((r) => unescape(r.text)).join('\n')).toContain(fresh.reference);
  });

  it('asks once across a restart: what the connector did not take goes after it, and a repeat sends nothing', async () => {
    // Kept replies are due again a second after a failure; this instance's worker would look only after 60 s.
    const first = await bots.start({ env: { ...ENV, REPLY_DELIVERY_RETRY_SECONDS: '1', REPLY_DELIVERY_POLL_SECONDS: '60' } });
    const person = new Person(first.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const record = await caseFor(first, person, 'en');
    const before = connector.messagesTo(person.conversationId).length;
    // The connector is down for this question (the post and the SDK's three retries): the turn keeps it pending.
    connector.failPosts = 4;
    await postEvent(first.url, { eventId: 'evt-r-1', reference: record.reference, status: 'resolved' });
    await vi.waitFor(async () => expect(await first.app.cases.updates.countUntold()).toBe(0), { timeout: 10_000, interval: 20 });
    await first.stop();
    connector.failPosts = 0;

    const second = await bots.start({ env: { ...ENV, REPLY_DELIVERY_POLL_SECONDS: '0.05' } });
    const { sent, reply } = await messageNumber(person, before + 1);
    expect(reply.text).toContain('Is the problem solved now?');
    expect(sent.inReplyTo).toBeUndefined();
    // The same update once more (a worker that died before marking it told): handled once.
    const update = (await second.app.cases.updates.history(record.reference))[0]!;
    const again = await second.app.cases.updateNotices!['askIfSolved'](update, record);
    expect(again).toBe('sent');
    await new Promise((r) => setTimeout(r, 300));
    expect(connector.messagesTo(person.conversationId)).toHaveLength(before + 1);
  });

  it('drops the question quietly when retention deleted the conversation', async () => {
    const bot = await bots.start({ env: ENV });
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    const record = await caseFor(bot, person, 'en');
    await (bot.app.store as SqlStore).db.deleteFrom('conversations').where('key', '=', person.key).execute();
    const before = connector.postAttempts.length;

    await postEvent(bot.url, { eventId: 'evt-gone', reference: record.reference, status: 'resolved' });
    await vi.waitFor(async () => expect(await bot.app.cases.updates.countUntold()).toBe(0), { timeout: 10_000, interval: 20 });
    expect(connector.postAttempts.length).toBe(before);
    expect(await bot.app.store.loadConversation(person.key)).toBeUndefined();
  });
});
