/** `npm run webex:webhooks` and the code behind it, against the fake Webex API. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeEach, beforeAll, describe, expect, it } from 'vitest';
import { WebexApi } from '../../../src/channels/webex/api';
import { ensureWebhooks } from '../../../src/channels/webex/webhooks';
import { FakeWebex } from './fake-webex';
import { silentLogger } from '../../support';

const run = promisify(execFile);
let fake: FakeWebex;
let api: WebexApi;
const publicUrl = 'https://bot.example.com';
const secret = 'webhook-secret-abcdef123456';

beforeAll(async () => {
  fake = await FakeWebex.start();
  api = new WebexApi({ baseUrl: fake.url, token: fake.token, logger: silentLogger });
});
beforeEach(() => fake.webhooks.clear());
afterEach(() => fake.reset());
afterAll(async () => {
  await fake.close();
});

function script(env: Record<string, string>) {
  return run('node_modules/.bin/tsx', ['scripts/webex-webhooks.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, LOG_LEVEL: 'silent', WEBEX_API_URL: fake.url, ...env },
  });
}

describe('ensureWebhooks', () => {
  it('creates the three webhooks (messages, card presses, the bot added to a space) with the secret, then leaves them alone', async () => {
    const first = await ensureWebhooks(api, { publicUrl, secret });
    expect(first.map((c) => [c.resource, c.action])).toEqual([
      ['messages', 'created'],
      ['attachmentActions', 'created'],
      ['memberships', 'created'],
    ]);
    const hooks = [...fake.webhooks.values()];
    expect(hooks.map((h) => `${h.resource}/${h.event}`).sort()).toEqual(['attachmentActions/created', 'memberships/created', 'messages/created']);
    expect(hooks.every((h) => h.targetUrl === `${publicUrl}/api/webex` && h.secret === secret)).toBe(true);

    const again = await ensureWebhooks(api, { publicUrl, secret });
    expect(again.map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(fake.webhooks.size).toBe(3);
  });

  it('adds the memberships webhook to a bot registered before it existed', async () => {
    await api.createWebhook({ name: 'pce-support-bot messages', targetUrl: `${publicUrl}/api/webex`, resource: 'messages', event: 'created', secret });
    await api.createWebhook({ name: 'pce-support-bot attachmentActions', targetUrl: `${publicUrl}/api/webex`, resource: 'attachmentActions', event: 'created', secret });
    const changes = await ensureWebhooks(api, { publicUrl, secret });
    expect(changes.map((c) => [c.resource, c.action])).toEqual([
      ['messages', 'unchanged'],
      ['attachmentActions', 'unchanged'],
      ['memberships', 'created'],
    ]);
  });

  it('reactivates a disabled webhook and moves one to a new URL and secret', async () => {
    await ensureWebhooks(api, { publicUrl, secret });
    const byResource = (r: string) => [...fake.webhooks.values()].find((h) => h.resource === r);
    const [messages, actions] = [byResource('messages'), byResource('attachmentActions')];
    messages!.status = 'disabled'; // what Webex does after repeated failed deliveries

    const changes = await ensureWebhooks(api, { publicUrl: 'https://new.example.com/', secret: 'rotated-secret-000000' });
    expect(changes.map((c) => [c.resource, c.action])).toEqual([
      ['messages', 'reactivated'],
      ['attachmentActions', 'updated'],
      ['memberships', 'updated'],
    ]);
    expect(messages!.status).toBe('active');
    for (const hook of [messages!, actions!]) {
      expect(hook.targetUrl).toBe('https://new.example.com/api/webex');
      expect(hook.secret).toBe('rotated-secret-000000');
    }
    expect(fake.webhooks.size).toBe(3);
  });
});

describe('npm run webex:webhooks', () => {
  it('registers the webhooks and lists what is registered', async () => {
    const { stdout } = await script({ WEBEX_BOT_TOKEN: fake.token, WEBEX_WEBHOOK_SECRET: secret, WEBEX_PUBLIC_URL: publicUrl });
    expect(stdout).toContain(`Bot: ${fake.bot.displayName}`);
    expect(stdout).toMatch(/created\s+messages -> https:\/\/bot\.example\.com\/api\/webex/);
    expect(stdout).toMatch(/created\s+attachmentActions -> https:\/\/bot\.example\.com\/api\/webex/);
    expect(stdout).toMatch(/created\s+memberships -> https:\/\/bot\.example\.com\/api\/webex/);
    expect(stdout).toMatch(/Registered webhooks:\n\s+active\s+messages\/created/);
    expect(stdout).not.toContain(secret);
    expect(fake.webhooks.size).toBe(3);
  });

  it('says what is missing and exits 2 without the public URL', async () => {
    const failure = await script({ WEBEX_BOT_TOKEN: fake.token, WEBEX_WEBHOOK_SECRET: secret, WEBEX_PUBLIC_URL: '' }).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('needs WEBEX_PUBLIC_URL');
    expect(fake.webhooks.size).toBe(0);
  });
});
