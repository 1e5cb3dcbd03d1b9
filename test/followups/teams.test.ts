/**
 * Issue 23 in Teams, over real HTTP with the fake connector and a fake clock: "check back with me
 * tomorrow" accepted at an ending, and the next day the bot asks on its own, in the person's language,
 * with buttons: yes closes the loop (confirmed by follow-up), no goes to Transaction Manager, spam and
 * then a case with what was known. Asked once, across a restart too; a conversation retention deleted
 * is dropped quietly.
 */
import { describe, expect, it, vi } from 'vitest';
import type { SqlStore } from '../../src/storage';
import { parseReply, Person, useBotsPerTest, useFakeConnector, type BotUnderTest } from '../channels/botframework/harness';
import { testDir } from '../support';

const connector = useFakeConnector();
const bots = useBotsPerTest();
const ENV = { FOLLOWUP_POLL_SECONDS: '3600' };
const DAY = 24 * 3_600_000;

const unescape = (text: string) => text.replace(/\\(.)/g, '$1');

function clock(start = '2026-12-01T09:00:00.000Z') {
  let now = new Date(start);
  return { now: () => now, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

/** The guide walked to "the change is saved", and "check back with me tomorrow" pressed. */
async function acceptFollowup(person: Person): Promise<void> {
  await person.join();
  await person.choose('check_change');
  const ending = await person.choose('updated');
  expect(ending.replies.at(-1)!.choices.map((c) => c.data?.choice)).toContain('check_back');
  const set = await person.choose('check_back');
  expect(unescape(set.replies.at(-1)!.text)).toMatch(/tomorrow|завтра/);
}

async function fired(bot: BotUnderTest, person: Person, before: number) {
  await vi.waitFor(() => expect(connector.messagesTo(person.conversationId).length).toBe(before + 1), { timeout: 10_000, interval: 20 });
  const sent = connector.messagesTo(person.conversationId).at(-1)!;
  const reply = parseReply(sent.activity, sent.id);
  person.seen.push(reply);
  return { sent, reply };
}

const outcomes = async (bot: BotUnderTest) =>
  (await (bot.app.store as SqlStore).db.selectFrom('funnel_events').select(['step', 'value']).where('kind', '=', 'outcome').orderBy('id').execute()).map((e) => `${e.step}:${e.value}`);

describe('a follow-up in Teams', () => {
  it('asks the next day in English, once; "Yes" closes the loop', async () => {
    const time = clock();
    const bot = await bots.start({ env: ENV, options: { engine: { clock: time.now } } });
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await acceptFollowup(person);
    const before = connector.messagesTo(person.conversationId).length;

    // Not yet due: nothing is asked.
    time.advance(DAY - 60_000);
    expect(await bot.app.followups.worker.runOnce()).toEqual({ claimed: 0, fired: 0 });
    time.advance(60_000);
    expect(await bot.app.followups.worker.runOnce()).toEqual({ claimed: 1, fired: 1 });
    expect(await bot.app.followups.worker.runOnce()).toEqual({ claimed: 0, fired: 0 });
    const { sent, reply } = await fired(bot, person, before);
    expect(sent.inReplyTo).toBeUndefined();
    expect(unescape(reply.text)).toContain('Hi again! Yesterday you saved the new provisioning contact in CCW and asked me to check back.');
    expect(reply.text).toContain('Did the provisioning email arrive?');
    expect(reply.choices.map((c) => [c.label, c.data?.choice])).toEqual([
      ['Yes', 'found'],
      ['No', 'not_found'],
    ]);

    const yes = await person.pressOn(reply, reply.choices[0]!);
    expect(unescape(yes.replies.at(-1)!.text)).toContain('Great, that settles it.');
    // The follow-up's ending asks whether it helped too.
    expect(yes.replies.at(-1)!.choices.map((c) => c.data?.choice)).toEqual(['helped', 'not_helped']);
    expect(await outcomes(bot)).toContain('followupConfirmed:confirmed_by_followup');
    const row = await (bot.app.store as SqlStore).db.selectFrom('followups' as never).selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'fired', answer: 'arrived', data: null });
    await new Promise((r) => setTimeout(r, 100));
    expect(connector.messagesTo(person.conversationId)).toHaveLength(before + 2);
  });

  it('asks in Ukrainian; "Ні" goes to Transaction Manager, spam, then a case with what was known', async () => {
    const time = clock();
    const bot = await bots.start({ env: ENV, options: { engine: { clock: time.now } } });
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'uk-UA', connector });
    await acceptFollowup(person);
    const before = connector.messagesTo(person.conversationId).length;
    time.advance(DAY);
    await bot.app.followups.worker.runOnce();
    const { reply } = await fired(bot, person, before);
    expect(unescape(reply.text)).toContain('Знову вітаю! Учора ви зберегли в CCW нову контактну особу');
    expect(reply.text).toContain('Лист активації надійшов?');
    expect(reply.choices.map((c) => c.label)).toEqual(['Так', 'Ні']);

    const no = await person.pressOn(reply, reply.choices[1]!);
    expect(unescape(no.replies.at(-1)!.text)).toContain('«Transaction Manager»');
    const updated = await person.choose('updated');
    expect(unescape(updated.replies.at(-1)!.text)).toContain('папку «Спам» («Небажана пошта»)');
    await person.choose('not_found');
    const stored = await bot.app.store.loadConversation(person.key);
    expect(stored?.flowId).toBe('support-case');
    // What the guide knew, and what the follow-up found, go to the case.
    const draft = (stored?.snapshot as { context: { draft: { trail: { step: string; choice?: string }[]; reason: string } } }).context.draft;
    expect(draft.trail.map((t) => `${t.step}:${t.choice}`)).toEqual(['entry:check_change', 'verifyUpdate:updated', 'followupAsk:not_found', 'followupVerify:updated', 'followupSpam:not_found']);
    expect(draft.reason).toBe('requested');
    expect(await outcomes(bot)).toContain('followupCase:needs_case');
  });

  it('asks after a restart: the timer outlives the process', async () => {
    const time = clock();
    const dir = testDir('followups-restart');
    const first = await bots.start({ db: dir.join('bot.sqlite'), env: ENV, options: { engine: { clock: time.now } } });
    const person = new Person(first.url, { channelId: 'msteams', locale: 'en-US', connector });
    await acceptFollowup(person);
    await first.stop();
    const before = connector.messagesTo(person.conversationId).length;

    time.advance(DAY + 5 * 60_000);
    const second = await bots.start({ db: dir.join('bot.sqlite'), env: ENV, options: { engine: { clock: time.now } } });
    expect(await second.app.followups.worker.runOnce()).toEqual({ claimed: 1, fired: 1 });
    const { reply } = await fired(second, person, before);
    expect(reply.text).toContain('Did the provisioning email arrive?');
  });

  it('drops the follow-up quietly when retention deleted the conversation', async () => {
    const time = clock();
    const bot = await bots.start({ env: ENV, options: { engine: { clock: time.now } } });
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await acceptFollowup(person);
    await (bot.app.store as SqlStore).db.deleteFrom('conversations').where('key', '=', person.key).execute();
    const attempts = connector.postAttempts.length;

    time.advance(DAY);
    expect(await bot.app.followups.worker.runOnce()).toEqual({ claimed: 1, fired: 0 });
    expect(connector.postAttempts.length).toBe(attempts);
    const row = await (bot.app.store as SqlStore).db.selectFrom('followups' as never).selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'dropped', data: null });
    expect(await bot.app.store.loadConversation(person.key)).toBeUndefined();
  });

  it('is not asked when the person wrote first', async () => {
    const time = clock();
    const bot = await bots.start({ env: ENV, options: { engine: { clock: time.now } } });
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await acceptFollowup(person);
    time.advance(3_600_000);
    await person.say('The email arrived, all good');
    const before = connector.postAttempts.length;
    time.advance(DAY);
    expect(await bot.app.followups.worker.runOnce()).toEqual({ claimed: 0, fired: 0 });
    expect(connector.postAttempts.length).toBe(before);
  });
});
