/**
 * The Webex channel loses nothing: a notification acknowledged with 2xx survives the bot process
 * being killed (SIGKILL of a real `npm start` process) before or after its turn, and the next bot on
 * the same SQLite file answers it once; presses carry the person's email after a restart (looked up,
 * not remembered); a card answered by typing is retired, also after a restart; the bot greets a
 * space it is added to.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebexApi } from '../../../src/channels/webex/api';
import { ensureWebhooks } from '../../../src/channels/webex/webhooks';
import type { SqlStore } from '../../../src/storage/index';
import { WebexRepository } from '../../../src/channels/webex/inbox-repository';
import { dropPostgresSchema, silentLogger, TEST_DATABASE_URL, uniqueName, useBotProcesses, type BotProcess } from '../../support';
import type { FakePerson, FakeRoom, FakeWebex } from './fake-webex';
import { eventually, lastCard, offeredChoices, press, say, SECRET, typeChoice, useFakeWebex, type RunningBot } from './harness';

let fake: FakeWebex;
const webex = useFakeWebex((f) => (fake = f), 'lose-nothing');
const freshDb = webex.freshDb;
const bot = (db?: string): Promise<RunningBot> => webex.start({}, db);
const processes = useBotProcesses();
// Before the fake is reset for the next test: a process left alive must not act in it.
afterEach(() => processes.killAll('SIGKILL'));

/** `npm start` as its own process with the Webex channel on the fake; resolves with its URL. */
async function startProcess(db: string): Promise<{ child: BotProcess; url: string }> {
  const child = processes.start(webex.tmp.path, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: `sqlite:${db}`,
    WEBEX_BOT_TOKEN: fake.token,
    WEBEX_WEBHOOK_SECRET: SECRET,
    WEBEX_API_URL: fake.url,
    WEBEX_INSECURE_DEV: '',
    CASE_BACKEND: 'local',
  });
  return { child, url: await child.listening };
}

/** SIGKILL to the bot's whole process group; resolves once the process has exited. */
const killed = (child: BotProcess): Promise<void> => child.kill('SIGKILL');

/** Whether the fake is holding this request unanswered (the bot process got exactly that far). */
function stalledAt(method: string, path: string): boolean {
  return fake.stalled.some((r) => r.method === method && r.path === path);
}

function inboxOf(b: RunningBot): WebexRepository {
  return new WebexRepository(b.app.store as SqlStore);
}

describe('a notification acknowledged before the process died', () => {
  it('killed before its turn (Webex stalls the message read): the next bot on the same file answers it once', async () => {
    const db = freshDb();
    const { child, url } = await startProcess(db);
    const api = new WebexApi({ baseUrl: fake.url, token: fake.token, logger: silentLogger });
    await ensureWebhooks(api, { publicUrl: url, secret: SECRET });
    const room = fake.room('direct');
    const person = fake.person('Kira', 'kira@example.com');

    fake.stallNext('GET', /^\/v1\/messages\//);
    const { message, deliveries } = await fake.userSays(room, person, 'hello');
    expect(deliveries.map((d) => d.status)).toEqual([200]); // acknowledged …
    await eventually('the bot process is reading the message', () => stalledAt('GET', `/v1/messages/${encodeURIComponent(message.id)}`));
    await killed(child); // … and the process dies before it could answer
    expect(fake.visible(room.id)).toEqual([]);
    fake.webhooks.clear();

    const next = await bot(db);
    await eventually('the next bot answers the acknowledged notification', () => fake.visible(room.id).length > 0);
    await next.settle();
    const replies = fake.visible(room.id);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.attachments?.length).toBe(1);
    expect(next.inbounds).toHaveLength(1);
    expect(next.inbounds[0]).toMatchObject({ activityId: message.id, text: 'hello', user: { id: person.id, email: 'kira@example.com' } });
    expect((await inboxOf(next).find(message.id))?.status).toBe('handled');

    // Resuming again (a later sweep, another start) finds nothing left to do.
    expect(await next.channel.resumeUnfinished()).toBe(0);
    await next.settle();
    expect(fake.visible(room.id)).toHaveLength(1);
  });

  it('killed after its turn committed but before the reply went out: the next bot shows the current step once', async () => {
    const db = freshDb();
    const { child, url } = await startProcess(db);
    await ensureWebhooks(new WebexApi({ baseUrl: fake.url, token: fake.token, logger: silentLogger }), { publicUrl: url, secret: SECRET });
    const room = fake.room('direct');
    const person = fake.person('Lev', 'lev@example.com');

    fake.stallNext('POST', /^\/v1\/messages$/);
    const { message, deliveries } = await fake.userSays(room, person, 'hello');
    expect(deliveries.map((d) => d.status)).toEqual([200]);
    await eventually('the bot process is posting its reply', () => stalledAt('POST', '/v1/messages'));
    await killed(child);
    expect(fake.posted.filter((m) => m.roomId === room.id)).toEqual([]);
    fake.webhooks.clear();

    const next = await bot(db);
    await eventually('the next bot answers', () => fake.visible(room.id).length > 0);
    await next.settle();
    // The turn is not run twice (it committed before the kill); the person gets where it stands.
    expect(next.inbounds).toHaveLength(1);
    expect(next.inbounds[0]).toMatchObject({ kind: 'greeting', user: { id: person.id } });
    expect(next.results[0]!.step).toBe('entry');
    const replies = fake.visible(room.id);
    expect(replies).toHaveLength(1);
    expect(offeredChoices(fake, room).map((c) => c.id)).toContain('never_arrived');
    expect((await next.app.store.loadConversation(`webex:${room.id}`))?.turn).toBe(2);
    expect((await inboxOf(next).find(message.id))?.status).toBe('handled');
  });
});

describe('card presses after a restart', () => {
  /** Fills the latest card's text input and presses its Send button. */
  async function submitText(b: RunningBot, room: FakeRoom, person: FakePerson, text: string): Promise<void> {
    const card = lastCard(fake, room);
    const send = card.actions.find((a) => a.type === 'Action.Submit' && !a.data?.choice)!;
    await fake.userSubmits(room, person, card.message.id, { ...send.data, text });
    await b.settle();
  }

  it("carry the person's email, looked up once, so the case records the requester's email", async () => {
    const db = freshDb();
    const first = await bot(db);
    const room = fake.room('direct');
    const person = fake.person('Marta', 'marta@partner.example');
    await say(first, fake, room, person, 'hi');
    await press(first, fake, room, person, 'never_arrived');
    await press(first, fake, room, person, 'found');
    await first.stop();
    fake.webhooks.clear();

    const second = await bot(db);
    const lookupsBefore = fake.requests.filter((r) => r.path === `/v1/people/${person.id}`).length;
    // From the ending, "start over" by pressing: a new run that only ever saw presses.
    await press(second, fake, room, person, 'cmd.restart');
    for (const choice of ['never_arrived', 'not_found', 'closed', 'can_edit', 'not_onboarded', 'failed', 'none_helped']) {
      await press(second, fake, room, person, choice);
    }
    await submitText(second, room, person, '104857391');
    await submitText(second, room, person, 'Sub123456');
    await submitText(second, room, person, 'old.contact@customer.example');
    await submitText(second, room, person, 'new.contact@customer.example');
    await press(second, fake, room, person, 'attachments_done');
    await press(second, fake, room, person, 'confirm');
    expect(second.results.at(-1)!.outcome).toBe('case_opened');

    expect(second.inbounds.every((i) => i.user.email === 'marta@partner.example')).toBe(true);
    const lookups = fake.requests.filter((r) => r.path === `/v1/people/${person.id}`).slice(lookupsBefore);
    expect(lookups).toEqual([{ method: 'GET', path: `/v1/people/${person.id}`, status: 200 }]);
    const cases = await (second.app.store as SqlStore).db.withTables<{ cases: { record: string; conversation_key: string } }>()
      .selectFrom('cases')
      .select('record')
      .where('conversation_key', '=', `webex:${room.id}`)
      .execute();
    expect(cases).toHaveLength(1);
    expect(JSON.parse(cases[0]!.record).openedBy).toMatchObject({ userKey: `webex:${person.id}`, email: 'marta@partner.example' });
  });

  it('go on without an email when the person cannot be looked up', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Nobody', 'nobody@example.com');
    await say(b, fake, room, person, 'hi');
    await b.stop();
    fake.webhooks.clear();
    const again = await bot(b.app.config.DATABASE_URL!.slice('sqlite:'.length));
    fake.failNext('GET', new RegExp(`^/v1/people/${person.id}$`), 404);
    await press(again, fake, room, person, 'never_arrived');
    expect(again.inbounds[0]!.user).toEqual({ id: person.id, email: undefined, verified: undefined });
    expect(again.results[0]!.step).toBe('spamCheck');
  });
});

describe('cards answered by typing', () => {
  it('are retired once the step moved on, also when the card was shown before a restart', async () => {
    const db = freshDb();
    const first = await bot(db);
    const room = fake.room('direct');
    const person = fake.person('Ola', 'ola@example.com');
    await say(first, fake, room, person, 'hi');
    const entryCard = lastCard(fake, room).message.id;
    await first.stop();
    fake.webhooks.clear();

    const second = await bot(db);
    await typeChoice(second, fake, room, person, 'never_arrived');
    expect(second.results.at(-1)!.step).toBe('spamCheck');
    expect(fake.deleted).toContain(entryCard);
    const cards = fake.visible(room.id).filter((m) => m.attachments?.length);
    expect(cards.map((m) => m.id)).toEqual([lastCard(fake, room).message.id]);
    expect(cards[0]!.id).not.toBe(entryCard);
  });

  it('a press on the live card is retired as before and is not deleted twice', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Petro', 'petro@example.com');
    await say(b, fake, room, person, 'hi');
    const card = await press(b, fake, room, person, 'never_arrived');
    const deletes = fake.requests.filter((r) => r.method === 'DELETE' && r.path === `/v1/messages/${card}`);
    expect(deletes).toEqual([{ method: 'DELETE', path: `/v1/messages/${card}`, status: 204 }]);
    expect(fake.visible(room.id).filter((m) => m.attachments?.length)).toHaveLength(1);
  });
});

describe('added to a space', () => {
  it('greets with the first step when the bot is the new member, once per membership', async () => {
    const b = await bot();
    const room = fake.room('group');
    const person = fake.person('Roman', 'roman@example.com');
    const { membershipId, deliveries } = await fake.addBot(room, person);
    expect(deliveries.map((d) => d.status)).toEqual([200]);
    await b.settle();

    expect(b.inbounds).toEqual([
      { channel: 'webex', conversationId: room.id, user: { id: person.id, email: 'roman@example.com', verified: [{ scheme: 'email', value: 'roman@example.com' }] }, activityId: membershipId, kind: 'greeting' },
    ]);
    expect(b.results[0]!.step).toBe('entry');
    expect(fake.visible(room.id)).toHaveLength(1);
    expect(offeredChoices(fake, room).map((c) => c.id)).toContain('change_contact');

    // Webex re-delivers the same membership notification: no second greeting.
    const hook = [...fake.webhooks.values()].find((w) => w.resource === 'memberships')!;
    const body = deliveries[0]!.body;
    await fake.deliver(hook, body, deliveries[0]!.signature);
    await b.settle();
    expect(fake.visible(room.id)).toHaveLength(1);
  });

  it("does not greet a 1:1 space: the person's first message starts the conversation there", async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Zoryana', 'zoryana@example.com');
    await fake.addBot(room, person);
    await say(b, fake, room, person, 'hi');
    expect(b.inbounds.map((i) => i.kind)).toEqual(['message']);
    expect(b.results[0]!.step).toBe('entry');
    expect(fake.visible(room.id)).toHaveLength(1);
  });

  it('stays quiet when someone else joins a space the bot is in', async () => {
    const b = await bot();
    const room = fake.room('group');
    const person = fake.person('Sofia', 'sofia@example.com');
    await b.channel.start(); // the bot knows who it is
    const { membershipId, deliveries } = await fake.addMember(room, person, fake.person('Taras', 'taras@example.com'));
    expect(deliveries.map((d) => d.status)).toEqual([200]);
    await b.settle();
    expect(b.inbounds).toEqual([]);
    expect(fake.posted.filter((m) => m.roomId === room.id)).toEqual([]);
    // Acknowledged without being kept: nothing could come of it.
    expect(await inboxOf(b).find(membershipId)).toBeUndefined();
  });
});

describe('several instances on PostgreSQL', () => {
  const schema = uniqueName('webex_inbox');
  afterAll(() => dropPostgresSchema(schema));

  async function instance(): Promise<RunningBot> {
    // Webhooks are not registered: the notification below is put in the inbox as an instance that died left it.
    return webex.start({ databaseUrl: TEST_DATABASE_URL, databaseSchema: schema, registerWebhooks: false, inbox: { pollMs: 3_600_000, leaseMs: 60_000 } });
  }

  it('a notification left by a dead instance is resumed by exactly one of the others, a live claim by none', async () => {
    const a = await instance();
    const room = fake.room('direct');
    const person = fake.person('Uliana', 'uliana@example.com');
    const { message } = await fake.userSays(room, person, 'hello'); // no webhooks: only the inbox knows
    const { message: held } = await fake.userSays(room, person, 'still being handled');
    const notification = (id: string) => ({ resource: 'messages', event: 'created', data: { id, roomId: room.id, personId: person.id, roomType: 'direct' } });
    const inbox = inboxOf(a);
    // Received by an instance that died long ago (its lease ran out) …
    await inbox.receive({ notificationId: message.id, roomId: room.id, resource: 'messages', notification: notification(message.id) }, { workerId: 'dead-instance', now: new Date(Date.now() - 3_600_000), leaseMs: 1_000 });
    // … and one a live instance is handling right now.
    await inbox.receive({ notificationId: held.id, roomId: room.id, resource: 'messages', notification: notification(held.id) }, { workerId: 'live-instance', now: new Date(), leaseMs: 3_600_000 });

    // Another instance starts (its start-up pass races the others), and both look again at once.
    const b = await instance();
    await Promise.all([a.channel.resumeUnfinished(), b.channel.resumeUnfinished(), a.channel.resumeUnfinished(), b.channel.resumeUnfinished()]);
    await a.settle();
    await b.settle();

    expect([...a.inbounds, ...b.inbounds].map((i) => i.activityId)).toEqual([message.id]);
    expect(fake.visible(room.id)).toHaveLength(1);
    expect((await inbox.find(message.id))?.status).toBe('handled');
    expect(await inbox.find(held.id)).toMatchObject({ status: 'pending', claimedBy: 'live-instance' });
  });
});

describe('a notification that cannot be kept', () => {
  it('is answered 503, not acknowledged, and not handled', async () => {
    const b = await bot();
    await b.channel.start();
    const room = fake.room('direct');
    const person = fake.person('Vira', 'vira@example.com');
    await b.app.store.close(); // the database is gone
    const { deliveries } = await fake.userSays(room, person, 'hello');
    expect(deliveries.map((d) => d.status)).toEqual([503]);
    await b.settle();
    expect(b.inbounds).toEqual([]);
    expect(fake.posted.filter((m) => m.roomId === room.id)).toEqual([]);
  });
});

describe('what the inbox keeps', () => {
  it('the ids a notification is handled by, not the email Webex sends with it', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Yana', 'yana@example.com');
    const { message } = await fake.userSays(room, person, 'hi');
    await b.settle();
    const kept = await inboxOf(b).find(message.id);
    expect(kept?.notification).toEqual({ resource: 'messages', event: 'created', actorId: person.id, data: { id: message.id, roomId: room.id, roomType: 'direct', personId: person.id } });
    expect(JSON.stringify(kept)).not.toContain('yana@example.com');
  });
});
