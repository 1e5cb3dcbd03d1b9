/**
 * The Webex channel end to end: the assembled bot on a random port, SQLite in a temp dir, and a fake
 * Webex API on loopback that delivers signed notifications and records what the bot does.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WEBEX_ROUTE } from '../../../src/channels/webex/channel';
import { escapeMarkdown, MARKDOWN_MAX_BYTES } from '../../../src/channels/webex/render';
import { createTranslator, loadResources } from '../../../src/i18n';
import type { FakePerson, FakeRoom, FakeWebex } from './fake-webex';
import { lastCard, markdownSince, offeredChoices, press, say, SECRET, typeChoice, useFakeWebex, type RunningBot, type StartOptions } from './harness';

const CYRILLIC = /\p{Script=Cyrillic}/u;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

let fake: FakeWebex;
const webex = useFakeWebex((f) => (fake = f));
const bot = (options: StartOptions = {}, db?: string): Promise<RunningBot> => webex.start(options, db);

/** Fills the latest card's text input and presses its Send button. */
async function submitText(b: RunningBot, room: FakeRoom, person: FakePerson, text: string): Promise<void> {
  const card = lastCard(fake, room);
  const send = card.actions.find((a) => a.type === 'Action.Submit' && !a.data?.choice);
  if (!send) throw new Error('the latest card has no text input to send');
  await fake.userSubmits(room, person, card.message.id, { ...send.data, text });
  await b.settle();
}

function botRequests(path: RegExp, method?: string) {
  return fake.requests.filter((r) => path.test(r.path) && (!method || r.method === method));
}

describe('a full conversation', () => {
  it('in English: typed answers and card presses walk N2-N6 to a verified change, each answered card retired', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Mary Major', 'mary@example.com');

    await say(b, fake, room, person, 'Hello');
    await typeChoice(b, fake, room, person, 'change_contact'); // typed, not pressed
    const statusCard = lastCard(fake, room).message.id;
    await press(b, fake, room, person, 'awaiting');
    expect(fake.deleted).toContain(statusCard);
    expect(fake.visible(room.id).some((m) => m.markdown === 'You chose: Awaiting Provisioning Details')).toBe(true);
    await typeChoice(b, fake, room, person, 'can_edit');
    await press(b, fake, room, person, 'not_onboarded');
    await press(b, fake, room, person, 'worked');
    await typeChoice(b, fake, room, person, 'updated');

    const last = b.results.at(-1)!;
    expect(b.results.map((r) => r.step)).toEqual(['entry', 'orderLineStatus', 'editAccess', 'ponrCheck', 'editSteps', 'verifyUpdate', 'changeConfirmed']);
    expect(last.outcome).toBe('resolved');
    expect(last.locale).toBe('en');
    // Every card answered, pressed or typed, was retired; only the last one is live, and no plain message was deleted.
    const cards = fake.posted.filter((m) => m.roomId === room.id && m.attachments?.length).map((m) => m.id);
    expect(cards.length).toBe(7);
    expect(fake.deleted.filter((id) => fake.posted.some((m) => m.id === id && m.roomId === room.id)).sort()).toEqual(cards.slice(0, -1).sort());
    expect(fake.visible(room.id).filter((m) => m.attachments?.length).map((m) => m.id)).toEqual([cards.at(-1)]);
    // Every message kept to Webex's rules (the fake answers anything else with 400).
    expect(botRequests(/^\/v1\/messages$/, 'POST').every((r) => r.status === 200)).toBe(true);
    // The conversation is the room, the user the person, with the email from the message.
    expect(b.inbounds[0]).toMatchObject({ channel: 'webex', conversationId: room.id, user: { id: person.id, email: 'mary@example.com' } });
    // Card submissions carry no email; the one seen on the person's messages is used (agent ids).
    const presses = b.inbounds.filter((i) => i.choice);
    expect(presses).toHaveLength(3);
    for (const i of presses) expect(i.user).toEqual({ id: person.id, email: 'mary@example.com', verified: [{ scheme: 'email', value: 'mary@example.com' }] });
    expect((await b.app.store.loadConversation(`webex:${room.id}`))?.userId).toBe(person.id);
  });

  it('in English: after the point of no return the person is sent to the admin portal with a real link', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Pat', 'pat@example.com');
    await say(b, fake, room, person, 'hi');
    await press(b, fake, room, person, 'change_contact');
    await press(b, fake, room, person, 'awaiting');
    await press(b, fake, room, person, 'can_edit');
    await press(b, fake, room, person, 'onboarded');

    expect(b.results.at(-1)!.outcome).toBe('redirected_admin');
    const card = lastCard(fake, room);
    expect(card.actions).toContainEqual(expect.objectContaining({ type: 'Action.OpenUrl', url: 'https://admin.webex.com' }));
    expect(card.message.markdown).toContain('](https://admin.webex.com)');
  });

  it('in Ukrainian: from Cyrillic text through N1, N7 and N8 to a support case, with card text inputs and a file', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Олена Коваль', 'olena@example.com');

    await say(b, fake, room, person, 'Добрий день');
    expect(b.inbounds[0]!.locale).toBe('uk');
    expect(b.results[0]!.locale).toBe('uk');
    const first = lastCard(fake, room);
    expect(offeredChoices(fake, room).every((c) => CYRILLIC.test(c.label))).toBe(true);
    expect(first.message.markdown).toMatch(CYRILLIC);

    await press(b, fake, room, person, 'never_arrived');
    expect(fake.deleted).toContain(first.message.id);
    expect(fake.visible(room.id).some((m) => m.markdown?.startsWith('Ви обрали:'))).toBe(true);
    await typeChoice(b, fake, room, person, 'not_found'); // the Ukrainian label, typed
    await press(b, fake, room, person, 'closed');
    await press(b, fake, room, person, 'can_edit');
    await press(b, fake, room, person, 'not_onboarded');
    await press(b, fake, room, person, 'failed');
    await press(b, fake, room, person, 'none_helped');
    // Handed over to the case intake: it asks for typed text, so the card has an input and Send.
    expect(b.results.at(-1)!.messages[0]!.expects).toBe('text');
    await submitText(b, room, person, 'SO 12345678'); // through the card's Input.Text
    await say(b, fake, room, person, 'Sub123456'); // or simply typed
    await submitText(b, room, person, 'old.contact@example.com');
    await say(b, fake, room, person, 'new.contact@example.com');
    expect(b.results.at(-1)!.messages[0]!.expects).toBe('attachment');
    await fake.userSays(room, person, 'ось знімок екрана', {
      files: [{ name: 'ccw-line.png', contentType: 'image/png', content: Buffer.alloc(4096, 3) }],
    });
    await b.settle();
    await press(b, fake, room, person, 'attachments_done');
    expect(b.results.at(-1)!.step).toBe('summary');
    const summary = lastCard(fake, room);
    expect(JSON.stringify(summary.body)).toContain('12345678');
    expect(JSON.stringify(summary.body)).toContain('ccw-line.png');
    await press(b, fake, room, person, 'confirm');

    const last = b.results.at(-1)!;
    expect(b.results.map((r) => r.step)).toEqual([
      'entry', 'spamCheck', 'orderLineStatus', 'closedOrder', 'ponrCheck', 'closedEditSteps', 'browserFixes',
      'orderNumber', 'subscriptionId', 'currentEmail', 'newEmail', 'attachments', 'attachments', 'summary', 'opened',
    ]);
    expect(b.inbounds.find((i) => i.attachments)?.attachments?.[0]).toMatchObject({ name: 'ccw-line.png', contentType: 'image/png', size: 4096 });
    expect(last.outcome).toBe('case_opened');
    expect(last.locale).toBe('uk');
    expect(markdownSince(fake, room, 0)).not.toMatch(/You chose/);
    expect(fake.visible(room.id).at(-1)!.markdown).toMatch(CYRILLIC);
  });

  it('keeps the language of the conversation when a Ukrainian speaker types Latin text', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Тарас', 'taras@example.com');
    await say(b, fake, room, person, 'Привіт');
    await say(b, fake, room, person, 'CCW');
    expect(b.inbounds[1]!.locale).toBeUndefined();
    expect(b.results[1]!.locale).toBe('uk');
  });

  it('an explicit language choice outlives the Cyrillic hint, for that person in every space', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Bilingual', 'bi@example.com');
    await say(b, fake, room, person, 'Привіт');
    expect(b.results.at(-1)!.locale).toBe('uk');
    await say(b, fake, room, person, 'english');
    expect(b.results.at(-1)!.locale).toBe('en');
    await say(b, fake, room, person, 'не знаю');
    expect(b.inbounds.at(-1)!.locale).toBe('uk'); // the hint is still sent …
    expect(b.results.at(-1)!.locale).toBe('en'); // … but the person's choice wins
    const group = fake.room('group');
    await say(b, fake, group, person, 'Добрий день');
    expect(b.results.at(-1)!.locale).toBe('en');
  });

  it('survives a restart of the bot: the same SQLite file continues the conversation and remembers handled notifications', async () => {
    const db = webex.freshDb();
    const first = await bot({}, db);
    const room = fake.room('direct');
    const person = fake.person('Ivan', 'ivan@example.com');
    await say(first, fake, room, person, 'hi');
    await press(first, fake, room, person, 'never_arrived');
    const spamCard = lastCard(fake, room);
    const handled = fake.deliveries.filter((d) => d.body.toString('utf8').includes('"resource":"attachmentActions"')).at(-1)!;
    await first.stop();
    fake.webhooks.clear();

    const second = await bot({}, db);
    const postedBefore = fake.posted.length;
    // A re-delivery of a notification handled before the restart is not answered again.
    const hook = [...fake.webhooks.values()].find((w) => w.resource === 'attachmentActions')!;
    await fake.deliver(hook, handled.body, createHmac('sha1', SECRET).update(handled.body).digest('hex'));
    await second.settle();
    expect(fake.posted.length).toBe(postedBefore);

    // The card shown before the restart still works: the step was restored, not restarted.
    await fake.userSubmits(room, person, spamCard.message.id, { ...spamCard.actions.find((a) => a.data?.choice === 'found')!.data });
    await second.settle();
    const result = second.results.at(-1)!;
    expect(result.stale).toBeFalsy();
    expect(result.outcome).toBe('resolved');
  });
});

describe('signatures', () => {
  async function signedNotification(room: FakeRoom) {
    const person = fake.person('Eve', 'eve@example.com');
    // A real message exists, so a wrongly accepted notification would be processed and answered.
    const { message } = await fake.userSays(room, person, 'hello', { mention: false });
    return Buffer.from(
      JSON.stringify({ id: 'hook', resource: 'messages', event: 'created', data: { id: message.id, roomId: room.id, personId: person.id, roomType: 'direct' } }),
    );
  }

  async function post(url: string, body: Buffer, signature?: string) {
    const res = await fetch(`${url}${WEBEX_ROUTE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature ? { 'x-spark-signature': signature } : {}) },
      body: new Uint8Array(body),
    });
    return res.status;
  }

  it('rejects a missing, wrong or replayed-onto-another-body signature with 401 and processes nothing', async () => {
    const b = await bot({ registerWebhooks: false });
    const room = fake.room('direct');
    const body = await signedNotification(room);
    await b.channel.start(); // the start-up identity check is done before we count requests
    const requestsBefore = fake.requests.length;

    expect(await post(b.url, body)).toBe(401);
    expect(await post(b.url, body, createHmac('sha1', 'not-the-secret').update(body).digest('hex'))).toBe(401);
    expect(await post(b.url, body, 'zz-not-hex')).toBe(401);
    // A signature captured from one genuine notification, replayed with a different body.
    const genuine = createHmac('sha1', SECRET).update(body).digest('hex');
    const tampered = Buffer.from(body.toString('utf8').replace('"hello"', '"x"').replace(room.id, fake.room('direct').id));
    expect(await post(b.url, tampered, genuine)).toBe(401);
    // Re-serialising (what JSON.stringify(req.body)-based checks do) changes bytes: also refused.
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8')), null, 2));
    expect(await post(b.url, reformatted, genuine)).toBe(401);

    // Variants of the path the router may also match are checked just the same.
    for (const path of [`${WEBEX_ROUTE}/`, WEBEX_ROUTE.toUpperCase(), `${WEBEX_ROUTE}?x=1`, `/api//webex`]) {
      const res = await fetch(`${b.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(body) });
      expect([401, 404, 405], path).toContain(res.status);
    }
    await b.settle();
    expect(b.inbounds).toHaveLength(0);
    expect(fake.requests.slice(requestsBefore)).toEqual([]); // no GET of the message, no reply
    expect(await b.app.store.loadConversation(`webex:${room.id}`)).toBeUndefined();

    // The same bytes with the right signature are accepted.
    expect(await post(b.url, body, genuine)).toBe(200);
    await b.settle();
    expect(b.inbounds).toHaveLength(1);
  });

  it('verifies over the raw bytes, so a body that is not valid UTF-8 but correctly signed is accepted', async () => {
    const b = await bot({ registerWebhooks: false });
    const room = fake.room('direct');
    const json = (await signedNotification(room)).toString('utf8');
    // An invalid UTF-8 byte inside a string field: decoding and re-encoding would change the bytes.
    const body = Buffer.concat([Buffer.from(json.slice(0, -1)), Buffer.from(',"note":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(await post(b.url, body, createHmac('sha1', SECRET).update(body).digest('hex'))).toBe(200);
    await b.settle();
    expect(b.inbounds).toHaveLength(1);
  });

  it('answers a signed body that is not a notification with 400, an oversized one with 413', async () => {
    const b = await bot({ registerWebhooks: false, maxBodyBytes: 2048 });
    const junk = Buffer.from('{"hello":"world"}');
    expect(await post(b.url, junk, createHmac('sha1', SECRET).update(junk).digest('hex'))).toBe(400);
    const big = Buffer.from(JSON.stringify({ resource: 'messages', event: 'created', data: { id: 'x'.repeat(4096) } }));
    expect(await post(b.url, big, createHmac('sha1', SECRET).update(big).digest('hex'))).toBe(413);
    await b.settle();
    expect(b.inbounds).toHaveLength(0);
  });
});

describe('delivery discipline', () => {
  it("ignores the bot's own messages without fetching them", async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Ann', 'ann@example.com');
    await say(b, fake, room, person, 'hi');
    await typeChoice(b, fake, room, person, 'never_arrived');

    const own = fake.posted.filter((m) => m.roomId === room.id).map((m) => m.id);
    expect(own.length).toBeGreaterThan(1);
    // The fake notified the bot about each of its own messages (as Webex does) …
    const echoed = fake.deliveries.filter((d) => own.some((id) => d.body.toString('utf8').includes(id)));
    expect(echoed.length).toBe(own.length);
    expect(echoed.every((d) => d.status === 200)).toBe(true);
    // … and none of them was fetched or answered.
    for (const id of own) expect(botRequests(new RegExp(`/v1/messages/${id}$`), 'GET')).toEqual([]);
    expect(b.inbounds).toHaveLength(2);
  });

  it('answers a duplicated notification once, whether it arrives at the same time or later', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Dup', 'dup@example.com');
    await say(b, fake, room, person, 'hi');
    const before = fake.posted.length;

    const { message } = await fake.userSays(room, person, 'hello again', { mention: false });
    const hook = [...fake.webhooks.values()].find((w) => w.resource === 'messages')!;
    const body = Buffer.from(JSON.stringify({ id: hook.id, resource: 'messages', event: 'created', data: { id: message.id, roomId: room.id, personId: person.id } }));
    const sig = createHmac('sha1', SECRET).update(body).digest('hex');
    const statuses = await Promise.all([fake.deliver(hook, body, sig), fake.deliver(hook, body, sig)]);
    expect(statuses.map((d) => d.status)).toEqual([200, 200]);
    await b.settle();
    await fake.deliver(hook, body, sig);
    await b.settle();

    const replies = fake.posted.slice(before);
    expect(replies).toHaveLength(1);
    // Re-deliveries are recognised from the store before the message is even fetched again.
    expect(botRequests(new RegExp(`/v1/messages/${message.id}$`), 'GET')).toHaveLength(1);
  });

  it('waits out a 429 with Retry-After and the reply still arrives', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Rate', 'rate@example.com');
    fake.failNext('POST', /^\/v1\/messages$/, 429, { retryAfter: '1' });
    const start = fake.requests.length;
    await say(b, fake, room, person, 'hi');

    const posts = fake.requests.slice(start).filter((r) => r.method === 'POST' && r.path === '/v1/messages');
    expect(posts.map((r) => r.status)).toEqual([429, 200]);
    expect(fake.visible(room.id)).toHaveLength(1);
    expect(offeredChoices(fake, room).length).toBeGreaterThan(0);
  });

  it('retries a 5xx with backoff and the reply still arrives', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Flaky', 'flaky@example.com');
    fake.failNext('GET', /^\/v1\/messages\//, 503, { count: 2 });
    await say(b, fake, room, person, 'hi');
    expect(fake.visible(room.id)).toHaveLength(1);
  });

  it('still answers when the pressed card cannot be deleted', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Sticky', 'sticky@example.com');
    await say(b, fake, room, person, 'hi');
    const card = lastCard(fake, room).message.id;
    fake.failNext('DELETE', /^\/v1\/messages\//, 403);
    await press(b, fake, room, person, 'never_arrived');
    expect(fake.deleted).not.toContain(card);
    expect(b.results.at(-1)!.step).toBe('spamCheck');
    expect(offeredChoices(fake, room).map((c) => c.id)).toContain('found');
  });

  it('apologises in the room when Webex keeps failing to give the message', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Unlucky', 'unlucky@example.com');
    // One attempt and three retries, all failing: the bounded retry gives up.
    fake.failNext('GET', /^\/v1\/messages\//, 500, { count: 4 });
    await say(b, fake, room, person, 'hi');
    const visible = fake.visible(room.id);
    expect(visible).toHaveLength(1);
    expect(visible[0]!.markdown).toBe(escapeMarkdown(b.app.translator.t('en', 'webex:error')));
    expect(b.inbounds).toHaveLength(0);
  });
});

describe('group spaces', () => {
  it('strips the mention of the bot before the text is understood', async () => {
    const b = await bot();
    const room = fake.room('group');
    const person = fake.person('Grace', 'grace@example.com');
    await say(b, fake, room, person, 'hi');
    expect(b.inbounds[0]!.text).toBe('hi');
    await typeChoice(b, fake, room, person, 'never_arrived');
    expect(b.results.at(-1)!.step).not.toBe(b.results[0]!.step);
  });
});

describe('files', () => {
  it('passes files on a message to the engine as attachments with name, type and size', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Shot', 'shot@example.com');
    await fake.userSays(room, person, 'here is the status page', {
      files: [{ name: 'status.png', contentType: 'image/png', content: Buffer.alloc(2048, 7) }],
    });
    await b.settle();
    expect(b.inbounds[0]!.attachments).toEqual([{ name: 'status.png', contentType: 'image/png', size: 2048, url: expect.stringMatching(/\/v1\/contents\//) }]);
  });
});

describe('replies', () => {
  it('splits a reply longer than the markdown limit into several messages without losing a word', async () => {
    const resources = loadResources();
    // Make every text of the flow long: the first reply is then far over 7439 bytes, in Ukrainian.
    const inflate = (node: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(node)) {
        if (typeof v === 'string') node[k] = `${v} ${Array.from({ length: 500 }, (_, i) => `слово${i}`).join(' ')}`;
        else if (v && typeof v === 'object') inflate(v as Record<string, unknown>);
      }
    };
    inflate(resources.uk['provisioning-contact'] as Record<string, unknown>);
    const b = await bot({ translator: createTranslator(resources) });
    const room = fake.room('direct');
    const person = fake.person('Long', 'long@example.com');
    await say(b, fake, room, person, 'Привіт');

    const messages = fake.visible(room.id);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(bytes(m.markdown!)).toBeLessThanOrEqual(MARKDOWN_MAX_BYTES);
    // Only the last one carries the card; all of the text arrived, in order.
    expect(messages.slice(0, -1).every((m) => !m.attachments)).toBe(true);
    expect(messages.at(-1)!.attachments).toHaveLength(1);
    const all = messages.map((m) => m.markdown).join(' ');
    const words = b.results[0]!.messages[0]!.paragraphs.join(' ').split(/\s+/);
    let from = 0;
    for (const word of words) {
      const at = all.indexOf(escapeMarkdown(word), from);
      expect(at, `"${word}" is missing or out of order`).toBeGreaterThanOrEqual(0);
      from = at;
    }
  });
});
