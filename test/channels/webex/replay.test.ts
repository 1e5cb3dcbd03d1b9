/**
 * Replays of signed Webex notifications (issue 14, item 12). The signature proves Webex sent the
 * bytes, not when: a notification captured once and posted again after the inbox has forgotten its
 * id (7 days) would be answered again. So an event dated (`data.created`) older than
 * WEBEX_MAX_NOTIFICATION_AGE_MINUTES, or far in the future, is refused over real HTTP: 403, a body
 * that does not say why, nothing kept in the inbox, nothing asked of or posted to Webex.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebexApi } from '../../../src/channels/webex/api';
import { WEBEX_ROUTE } from '../../../src/channels/webex/channel';
import { ensureWebhooks } from '../../../src/channels/webex/webhooks';
import type { SqlStore } from '../../../src/storage/index';
import { WebexRepository } from '../../../src/channels/webex/inbox-repository';
import type { FakeWebex, FakeMessage, FakePerson, FakeRoom } from './fake-webex';
import { silentLogger, startApp } from '../../support';
import { eventually, SECRET, useFakeWebex, type RunningBot } from './harness';

const MINUTE = 60_000;
let fake: FakeWebex;
const webex = useFakeWebex((f) => (fake = f), 'replay');

async function bot(): Promise<RunningBot> {
  const b = await webex.start();
  // The bot asks Webex who it is at start; wait for that, so it is not taken for a reaction to a test's notification.
  await b.channel.start();
  await b.settle();
  return b;
}

/**
 * A message that exists at Webex (the bot can read it and answer it) and the notification Webex
 * signed for it when it was written, `ageMs` ago. Its id is new to the bot, as the id of a
 * notification the inbox has forgotten would be.
 */
function signedNotification(room: FakeRoom, person: FakePerson, ageMs: number, extra: Record<string, unknown> = {}) {
  const created = new Date(Date.now() - ageMs).toISOString();
  const message: FakeMessage = {
    id: Buffer.from(`ciscospark://us/MESSAGE/${randomUUID()}`).toString('base64url'),
    roomId: room.id,
    roomType: room.type,
    personId: person.id,
    personEmail: person.email,
    text: 'hello',
    created,
  };
  fake.messages.set(message.id, message);
  const hook = [...fake.webhooks.values()].find((w) => w.resource === 'messages')!;
  const body = Buffer.from(
    JSON.stringify({
      id: hook.id,
      name: hook.name,
      targetUrl: hook.targetUrl,
      resource: 'messages',
      event: 'created',
      status: 'active',
      created: hook.created, // the webhook's own creation date, not the event's
      actorId: person.id,
      ...extra,
      data: { id: message.id, roomId: room.id, roomType: room.type, personId: person.id, personEmail: person.email, created },
    }),
  );
  return { hook, body, signature: createHmac('sha1', SECRET).update(body).digest('hex'), messageId: message.id };
}

async function post(url: string, body: Buffer, signature: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${WEBEX_ROUTE}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-spark-signature': signature }, body: new Uint8Array(body) });
  return { status: res.status, text: await res.text() };
}

function inboxOf(b: RunningBot): WebexRepository {
  return new WebexRepository(b.app.store as SqlStore);
}

describe('a correctly signed notification', () => {
  it.each([
    ['older than the bound (61 minutes, the default bound is 60)', 61 * MINUTE],
    ['older than the inbox remembers (8 days)', 8 * 24 * 60 * MINUTE],
    ['dated an hour in the future', -60 * MINUTE],
  ])('is refused when %s: 403, nothing kept, nothing read from or posted to Webex, no turn', async (_, ageMs) => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Replay', 'replay@example.com');
    const requestsBefore = fake.requests.length;
    const { body, signature, messageId } = signedNotification(room, person, ageMs);

    const answer = await post(b.url, body, signature);
    await b.settle();

    expect(answer.status).toBe(403);
    // Neutral: nothing tells the sender which bound it crossed.
    expect(JSON.parse(answer.text)).toEqual({ code: 'Forbidden', message: 'The notification was refused' });
    expect(await inboxOf(b).find(messageId)).toBeUndefined();
    expect(fake.requests.slice(requestsBefore)).toEqual([]);
    expect(fake.visible(room.id)).toEqual([]);
    expect(b.inbounds).toEqual([]);
  });

  it('is answered when its event is recent, however old the webhook it came through (the top-level `created`)', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Fresh', 'fresh@example.com');
    const { body, signature, messageId } = signedNotification(room, person, 2 * MINUTE, { created: '2020-01-01T00:00:00.000Z' });

    const answer = await post(b.url, body, signature);
    await b.settle();

    expect(answer.status).toBe(200);
    expect((await inboxOf(b).find(messageId))?.status).toBe('handled');
    expect(fake.visible(room.id).length).toBeGreaterThan(0);
  });

  it('with an event date that is not a date is not a Webex notification: 400, nothing kept', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Garbled', 'garbled@example.com');
    const { body: genuine, messageId } = signedNotification(room, person, 0);
    const body = Buffer.from(genuine.toString('utf8').replace(/"created":"[^"]+"}}$/, '"created":"yesterday"}}'));

    const answer = await post(b.url, body, createHmac('sha1', SECRET).update(body).digest('hex'));
    await b.settle();

    expect(answer.status).toBe(400);
    expect(await inboxOf(b).find(messageId)).toBeUndefined();
    expect(b.inbounds).toEqual([]);
  });
});

describe('WEBEX_MAX_NOTIFICATION_AGE_MINUTES in the assembled application', () => {
  it('is the bound: with 5 minutes, a notification signed 10 minutes ago is refused and one signed 1 minute ago answered', async () => {
    const { url, stop } = await startApp({
      DATABASE_URL: `sqlite:${webex.tmp.join('assembled.sqlite')}`,
      WEBEX_BOT_TOKEN: fake.token,
      WEBEX_WEBHOOK_SECRET: SECRET,
      WEBEX_API_URL: fake.url,
      WEBEX_MAX_NOTIFICATION_AGE_MINUTES: '5',
    });
    try {
      await ensureWebhooks(new WebexApi({ baseUrl: fake.url, token: fake.token, logger: silentLogger }), { publicUrl: url, secret: SECRET });
      const room = fake.room('direct');
      const person = fake.person('Bounded', 'bounded@example.com');

      const old = signedNotification(room, person, 10 * MINUTE);
      expect((await post(url, old.body, old.signature)).status).toBe(403);

      const recent = signedNotification(room, person, 1 * MINUTE);
      expect((await post(url, recent.body, recent.signature)).status).toBe(200);
      await eventually('the bot answers the recent one', () => fake.visible(room.id).length > 0);
      // Only the recent message was read.
      expect(fake.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/messages/${old.messageId}`))).toBe(false);
      expect(fake.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/messages/${recent.messageId}`))).toBe(true);
    } finally {
      await stop();
    }
  });
});
