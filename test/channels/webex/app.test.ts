/**
 * The Webex channel as `npm start` assembles it: configured from the environment, refused without a
 * secret, wired to POST /api/webex of the shared server.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebexApi } from '../../../src/channels/webex/api';
import { ensureWebhooks } from '../../../src/channels/webex/webhooks';
import { ConfigError, loadConfig } from '../../../src/config';
import { silentLogger, startApp, startBotProcess, stopAfterTest, testDir } from '../../support';
import type { FakeWebex } from './fake-webex';
import { eventually, useFakeWebex } from './harness';

let fake: FakeWebex;
const webex = useFakeWebex((f) => (fake = f));

describe('configuration', () => {
  it('refuses a bot token without a webhook secret, naming the variable and the way out', () => {
    expect(() => loadConfig({ WEBEX_BOT_TOKEN: 'token' })).toThrow(ConfigError);
    expect(() => loadConfig({ WEBEX_BOT_TOKEN: 'token' })).toThrow(/WEBEX_WEBHOOK_SECRET.*WEBEX_INSECURE_DEV=true/s);
    expect(loadConfig({ WEBEX_BOT_TOKEN: 'token', WEBEX_INSECURE_DEV: 'true' }).WEBEX_INSECURE_DEV).toBe(true);
    expect(loadConfig({}).WEBEX_API_URL).toBe('https://webexapis.com/v1');
  });

  it('takes the inbox lease and poll interval, with defaults, and refuses nonsense', () => {
    expect(loadConfig({})).toMatchObject({ WEBEX_INBOX_LEASE_SECONDS: 300, WEBEX_INBOX_POLL_SECONDS: 10 });
    expect(loadConfig({ WEBEX_INBOX_LEASE_SECONDS: '60', WEBEX_INBOX_POLL_SECONDS: '2' })).toMatchObject({ WEBEX_INBOX_LEASE_SECONDS: 60, WEBEX_INBOX_POLL_SECONDS: 2 });
    expect(() => loadConfig({ WEBEX_INBOX_LEASE_SECONDS: '0' })).toThrow(/WEBEX_INBOX_LEASE_SECONDS/);
  });

  it('npm start exits with a clear message when the secret is missing', async () => {
    const bot = stopAfterTest(
      startBotProcess(testDir('webex-app-').path, {
        WEBEX_BOT_TOKEN: 'token',
        WEBEX_WEBHOOK_SECRET: '',
        WEBEX_INSECURE_DEV: '',
        DATABASE_URL: `sqlite:${webex.tmp.join('refused.sqlite')}`,
      }),
    );
    expect(await bot.exited).toBe(78);
    expect(bot.stderr()).toMatch(/WEBEX_WEBHOOK_SECRET: is required when WEBEX_BOT_TOKEN is set/);
  });
});

describe('the assembled application', () => {
  it('serves POST /api/webex when a token and secret are configured, and answers in the room', async () => {
    const secret = 'app-secret-9876543210';
    const { url, stop } = await startApp({
      DATABASE_URL: `sqlite:${webex.tmp.join('app.sqlite')}`,
      WEBEX_BOT_TOKEN: fake.token,
      WEBEX_WEBHOOK_SECRET: secret,
      WEBEX_API_URL: fake.url,
    });
    try {
      await ensureWebhooks(new WebexApi({ baseUrl: fake.url, token: fake.token, logger: silentLogger }), { publicUrl: url, secret });
      const room = fake.room('direct');
      const person = fake.person('Assembled', 'assembled@example.com');

      const unsigned = await fetch(`${url}/api/webex`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(unsigned.status).toBe(401);

      const { deliveries } = await fake.userSays(room, person, 'hello');
      expect(deliveries.map((d) => d.status)).toEqual([200]);
      await eventually('the bot answers in the room', () => fake.visible(room.id).length > 0);
      expect(fake.visible(room.id)[0]!.attachments?.[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    } finally {
      await stop();
    }
  });

  it('with WEBEX_INSECURE_DEV and no secret, accepts unsigned notifications (local experiments only)', async () => {
    const { url, stop } = await startApp({
      DATABASE_URL: `sqlite:${webex.tmp.join('insecure.sqlite')}`,
      WEBEX_BOT_TOKEN: fake.token,
      WEBEX_INSECURE_DEV: 'true',
      WEBEX_API_URL: fake.url,
    });
    fake.webhooks.clear(); // the previous test's bot is gone
    try {
      const room = fake.room('direct');
      const person = fake.person('Dev', 'dev@example.com');
      const { message } = await fake.userSays(room, person, 'hello'); // no webhooks registered: nothing delivered
      const body = JSON.stringify({ resource: 'messages', event: 'created', data: { id: message.id, roomId: room.id, personId: person.id } });
      const res = await fetch(`${url}/api/webex`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(200);
      await eventually('the bot answers in the room', () => fake.visible(room.id).length > 0);
    } finally {
      await stop();
    }
  });

  it('without a token there is no Webex route', async () => {
    const { url, stop } = await startApp({ DATABASE_URL: `sqlite:${webex.tmp.join('off.sqlite')}` });
    try {
      const body = Buffer.from('{"resource":"messages","event":"created","data":{"id":"x"}}');
      const res = await fetch(`${url}/api/webex`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-spark-signature': createHmac('sha1', 's').update(body).digest('hex') },
        body: new Uint8Array(body),
      });
      expect([404, 405]).toContain(res.status);
    } finally {
      await stop();
    }
  });
});
