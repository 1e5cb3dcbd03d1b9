/**
 * The abuse limits over real HTTP on the whole bot (real SQLite, engine, Direct Line endpoint): a
 * client behind a trusted proxy is limited by its own address, gets 429 with Retry-After, and other
 * clients, polling, a browser on this machine and the Teams route are not affected.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config';
import { startBotForTest, type StartedConversation } from './harness';

const SITE_TOKEN = 'site-token-for-limit-tests-0123456789';
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);

/** A request as a reverse proxy on this machine forwards it for `client`. */
function viaProxy(client: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-forwarded-for': client, ...extra };
}

async function start(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/directline/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SITE_TOKEN}`, ...headers },
    body: '{}',
  });
}

async function post(url: string, c: StartedConversation, headers: Record<string, string>, text = 'hello'): Promise<Response> {
  return fetch(`${url}/directline/conversations/${c.conversationId}/activities`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}`, ...headers },
    body: JSON.stringify({ type: 'message', text }),
  });
}

function upload(url: string, c: StartedConversation, bytes: number): Promise<Response> {
  const form = new FormData();
  form.append('activity', new Blob([JSON.stringify({ type: 'message' })], { type: 'application/vnd.microsoft.activity' }));
  const data = new Uint8Array(bytes);
  data.set(PNG);
  form.append('file', new Blob([data], { type: 'image/png' }), 'shot.png');
  return fetch(`${url}/directline/conversations/${c.conversationId}/upload`, { method: 'POST', headers: { authorization: `Bearer ${c.token}` }, body: form });
}

async function expectTooMany(res: Response): Promise<number> {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('TooManyRequests');
  return retryAfter;
}

describe('per-client limits on /directline/* behind a trusted proxy', () => {
  const env = { WEBCHAT_TOKEN: SITE_TOKEN, TRUSTED_PROXIES: '127.0.0.1', DIRECTLINE_CONVERSATIONS_PER_HOUR: '2', DIRECTLINE_POSTS_PER_MINUTE: '4' };

  it('answers the conversation start over the hourly limit 429 with Retry-After, for that client only', async () => {
    const bot = await startBotForTest(env);
    expect((await start(bot.url, viaProxy('198.51.100.7'))).status).toBe(201);
    expect((await start(bot.url, viaProxy('198.51.100.7'))).status).toBe(201);
    const retryAfter = await expectTooMany(await start(bot.url, viaProxy('198.51.100.7')));
    // One conversation per 30 minutes comes back.
    expect(retryAfter).toBeLessThanOrEqual(1800);
    expect((await start(bot.url, viaProxy('198.51.100.8'))).status).toBe(201);
  });

  it('answers posts over the per-minute limit 429, while polling and the Teams route go on', async () => {
    const bot = await startBotForTest(env);
    const client = viaProxy('203.0.113.20');
    const res = await start(bot.url, client);
    expect(res.status).toBe(201);
    const c = (await res.json()) as StartedConversation;
    // The start counted as one POST: three more fit in the burst of four.
    for (let i = 0; i < 3; i += 1) expect((await post(bot.url, c, client)).status).toBe(200);
    const retryAfter = await expectTooMany(await post(bot.url, c, client));
    expect(retryAfter).toBeLessThanOrEqual(15);
    // Reading the conversation (Web Chat polls every second) is not counted.
    const poll = await fetch(`${bot.url}/directline/conversations/${c.conversationId}/activities?watermark=`, { headers: { authorization: `Bearer ${c.token}`, ...client } });
    expect(poll.status).toBe(200);
    // The Bot Framework route is not behind this limit: the channel itself answers (without an app id,
    // 403 to anything forwarded: it serves only this machine), never the limiter's 429.
    const teams = await fetch(`${bot.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...client },
      body: JSON.stringify({ type: 'message', id: 'a1', text: 'hi', channelId: 'emulator', deliveryMode: 'expectReplies', serviceUrl: 'http://127.0.0.1:9/', conversation: { id: 'limits-teams' }, from: { id: 'u1' }, recipient: { id: 'bot' } }),
    });
    expect(teams.status).toBe(403);
    expect(((await teams.json()) as { code: string }).code).toBe('Forbidden');
  });

  it('does not let a client pick a fresh identity by writing its own X-Forwarded-For', async () => {
    const bot = await startBotForTest(env);
    // The proxy appends the real peer; what the client sent stays on the left.
    expect((await start(bot.url, viaProxy('10.9.9.1, 198.51.100.50'))).status).toBe(201);
    expect((await start(bot.url, viaProxy('10.9.9.2, 198.51.100.50'))).status).toBe(201);
    await expectTooMany(await start(bot.url, viaProxy('10.9.9.3, 198.51.100.50')));
  });
});

describe('per-client limits without a trusted proxy', () => {
  it('keys on the peer address and ignores X-Forwarded-For', async () => {
    const bot = await startBotForTest({ WEBCHAT_TOKEN: SITE_TOKEN, DIRECTLINE_CONVERSATIONS_PER_HOUR: '2' });
    expect((await start(bot.url, viaProxy('198.51.100.1'))).status).toBe(201);
    expect((await start(bot.url, viaProxy('198.51.100.2'))).status).toBe(201);
    await expectTooMany(await start(bot.url, viaProxy('198.51.100.3')));
  });

  it('does not limit a browser on this machine (loopback, no proxy headers)', async () => {
    const bot = await startBotForTest({ DIRECTLINE_CONVERSATIONS_PER_HOUR: '1', DIRECTLINE_POSTS_PER_MINUTE: '1' });
    for (let i = 0; i < 3; i += 1) expect((await start(bot.url, {})).status).toBe(201);
  });

  it('can be turned off with 0', async () => {
    const bot = await startBotForTest({ WEBCHAT_TOKEN: SITE_TOKEN, DIRECTLINE_CONVERSATIONS_PER_HOUR: '0', DIRECTLINE_POSTS_PER_MINUTE: '0' });
    for (let i = 0; i < 4; i += 1) expect((await start(bot.url, viaProxy('198.51.100.1'))).status).toBe(201);
  });
});

describe('uploads per conversation', () => {
  it('refuses a file over the per-conversation count with 429 and Retry-After within the window', async () => {
    const bot = await startBotForTest({ WEBCHAT_MAX_UPLOADS_PER_CONVERSATION: '2', WEBCHAT_UPLOAD_WINDOW_HOURS: '24' });
    const c = (await (await start(bot.url, {})).json()) as StartedConversation;
    expect((await upload(bot.url, c, 100)).status).toBe(200);
    expect((await upload(bot.url, c, 100)).status).toBe(200);
    const retryAfter = await expectTooMany(await upload(bot.url, c, 100));
    expect(retryAfter).toBeGreaterThan(23 * 3600);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
    // Another conversation has its own allowance.
    const other = (await (await start(bot.url, {})).json()) as StartedConversation;
    expect((await upload(bot.url, other, 100)).status).toBe(200);
  });

  it('refuses bytes over the per-conversation total, and still takes a file that fits', async () => {
    const bot = await startBotForTest({ WEBCHAT_MAX_UPLOAD_BYTES: '1000', WEBCHAT_MAX_UPLOAD_BYTES_PER_CONVERSATION: '1500' });
    const c = (await (await start(bot.url, {})).json()) as StartedConversation;
    expect((await upload(bot.url, c, 900)).status).toBe(200);
    await expectTooMany(await upload(bot.url, c, 900));
    expect((await upload(bot.url, c, 500)).status).toBe(200);
  });

  it('refuses a per-conversation byte limit below the per-file limit at start', () => {
    expect(() => loadConfig({ WEBCHAT_MAX_UPLOAD_BYTES: '2000', WEBCHAT_MAX_UPLOAD_BYTES_PER_CONVERSATION: '1000' })).toThrow(/WEBCHAT_MAX_UPLOAD_BYTES_PER_CONVERSATION/);
  });
});
