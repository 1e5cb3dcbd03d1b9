/**
 * The Webex channel as `npm start` assembles it: configured from the environment, refused without a
 * secret, wired to POST /api/webex of the shared server.
 */
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApplication } from '../../../src/app';
import { WebexApi } from '../../../src/channels/webex/api';
import { ensureWebhooks } from '../../../src/channels/webex/webhooks';
import { ConfigError, loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/log';
import { FakeWebex } from '../../fakes/webex-api';
import { tempDir } from './harness';

const run = promisify(execFile);
const logger = createLogger('silent');
let fake: FakeWebex;
const tmp = tempDir();

beforeAll(async () => {
  fake = await FakeWebex.start();
});
afterEach(() => fake.reset());
afterAll(async () => {
  await fake.close();
  tmp.remove();
});

/** Waits (without asserting on time) until `check` holds; fails with `what` after many tries. */
async function eventually(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

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
    const failure = await run('node_modules/.bin/tsx', ['src/index.ts'], {
      cwd: process.cwd(),
      env: { ...process.env, WEBEX_BOT_TOKEN: 'token', WEBEX_WEBHOOK_SECRET: '', WEBEX_INSECURE_DEV: '', PORT: '0', DATABASE_URL: `sqlite:${tmp.dir}/refused.sqlite` },
    }).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failure?.code).toBe(78);
    expect(failure?.stderr).toMatch(/WEBEX_WEBHOOK_SECRET: is required when WEBEX_BOT_TOKEN is set/);
  });
});

describe('the assembled application', () => {
  it('serves POST /api/webex when a token and secret are configured, and answers in the room', async () => {
    const secret = 'app-secret-9876543210';
    const config = loadConfig({
      DATABASE_URL: `sqlite:${tmp.dir}/app.sqlite`,
      LOG_LEVEL: 'silent',
      WEBEX_BOT_TOKEN: fake.token,
      WEBEX_WEBHOOK_SECRET: secret,
      WEBEX_API_URL: fake.url,
    });
    const app = await createApplication(config, { logger, processMetrics: false });
    const { url } = await app.listen(0, '127.0.0.1');
    try {
      await ensureWebhooks(new WebexApi({ baseUrl: fake.url, token: fake.token, logger }), { publicUrl: url, secret });
      const room = fake.room('direct');
      const person = fake.person('Assembled', 'assembled@example.com');

      const unsigned = await fetch(`${url}/api/webex`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(unsigned.status).toBe(401);

      const { deliveries } = await fake.userSays(room, person, 'hello');
      expect(deliveries.map((d) => d.status)).toEqual([200]);
      await eventually('the bot answers in the room', () => fake.visible(room.id).length > 0);
      expect(fake.visible(room.id)[0]!.attachments?.[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    } finally {
      await app.close(5_000);
    }
  });

  it('with WEBEX_INSECURE_DEV and no secret, accepts unsigned notifications (local experiments only)', async () => {
    const config = loadConfig({
      DATABASE_URL: `sqlite:${tmp.dir}/insecure.sqlite`,
      LOG_LEVEL: 'silent',
      WEBEX_BOT_TOKEN: fake.token,
      WEBEX_INSECURE_DEV: 'true',
      WEBEX_API_URL: fake.url,
    });
    const app = await createApplication(config, { logger, processMetrics: false });
    const { url } = await app.listen(0, '127.0.0.1');
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
      await app.close(5_000);
    }
  });

  it('without a token there is no Webex route', async () => {
    const config = loadConfig({ DATABASE_URL: `sqlite:${tmp.dir}/off.sqlite`, LOG_LEVEL: 'silent' });
    const app = await createApplication(config, { logger, processMetrics: false });
    const { url } = await app.listen(0, '127.0.0.1');
    try {
      const body = Buffer.from('{"resource":"messages","event":"created","data":{"id":"x"}}');
      const res = await fetch(`${url}/api/webex`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-spark-signature': createHmac('sha1', 's').update(body).digest('hex') },
        body: new Uint8Array(body),
      });
      expect([404, 405]).toContain(res.status);
    } finally {
      await app.close(5_000);
    }
  });
});
