/**
 * Issue 14, item 8: Direct Line conversation tokens expire (DIRECTLINE_TOKEN_TTL_SECONDS, 3600 by
 * default), a refresh gives a new token and the old one stops working after a short grace, and a
 * change of WEBCHAT_TOKEN leaves no conversation open past its token's expiry. Over real HTTP, on
 * SQLite and PostgreSQL, with the endpoint's clock moved by the test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { REFRESH_GRACE_MS } from '../../../src/channels/directline/conversation-tokens';
import { newBotData, dropBotData, startClockedBot, type BotData, type ClockedBot, type Dialect } from './clocked-bot';
import { DirectLineTestClient, type StartedConversation } from './harness';

const TTL_MS = 3600_000;
const MINUTE = 60_000;
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

type Token = Pick<StartedConversation, 'conversationId' | 'token'>;

async function errorCode(res: Response): Promise<string | undefined> {
  return ((await res.json()) as { error?: { code?: string } }).error?.code;
}

function refresh(bot: ClockedBot, token: string): Promise<Response> {
  return fetch(`${bot.url}/directline/tokens/refresh`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

async function refreshOk(bot: ClockedBot, c: Token): Promise<Token & { expires_in: number }> {
  const res = await refresh(bot, c.token);
  expect(res.status).toBe(200);
  return (await res.json()) as Token & { expires_in: number };
}

function reconnect(bot: ClockedBot, c: Token): Promise<Response> {
  return fetch(`${bot.url}/directline/conversations/${c.conversationId}?watermark=`, { headers: { authorization: `Bearer ${c.token}` } });
}

function upload(bot: ClockedBot, c: Token): Promise<Response> {
  const form = new FormData();
  form.append('activity', new Blob([JSON.stringify({ type: 'message' })], { type: 'application/vnd.microsoft.activity' }));
  form.append('file', new Blob([PNG], { type: 'image/png' }), 'shot.png');
  return fetch(`${bot.url}/directline/conversations/${c.conversationId}/upload`, { method: 'POST', headers: { authorization: `Bearer ${c.token}` }, body: form });
}

async function storedCount(bot: ClockedBot, conversationId: string): Promise<number> {
  const row = await bot.db
    .selectFrom('directline_activities')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('conversation_id', '=', conversationId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each<Dialect>(['sqlite', 'postgres'])('Direct Line token expiry and refresh (%s)', (dialect) => {
  let data: BotData;
  const running: ClockedBot[] = [];

  async function start(env: Record<string, string> = {}): Promise<{ bot: ClockedBot; dl: DirectLineTestClient }> {
    const bot = await startClockedBot(data, { env });
    running.push(bot);
    return { bot, dl: new DirectLineTestClient(bot.url) };
  }

  afterEach(async () => {
    for (const bot of running.splice(0)) await bot.stop();
    await dropBotData(data);
  });

  it('refuses a token older than its TTL on every conversation route with 403 TokenExpired, and stores nothing', async () => {
    data = newBotData(dialect);
    const { bot, dl } = await start();
    const c = await dl.startOk();
    bot.advance(TTL_MS - 1000);
    expect((await dl.get(c)).status).toBe(200);
    const stored = await storedCount(bot, c.conversationId);

    bot.advance(1000);
    const get = await dl.get(c);
    expect(get.status).toBe(403);
    expect(await errorCode(get)).toBe('TokenExpired');
    const post = await dl.post(c, { type: 'message', text: 'help', channelData: { clientActivityID: 'late-1' } });
    expect(post.status).toBe(403);
    expect(await errorCode(post)).toBe('TokenExpired');
    expect((await upload(bot, c)).status).toBe(403);
    expect((await reconnect(bot, c)).status).toBe(403);
    expect((await refresh(bot, c.token)).status).toBe(403);
    // Presented to start a conversation, it resumes nothing: at most a new conversation starts (this machine needs no site token).
    const again = await dl.start({ authorization: `Bearer ${c.token}` });
    if (again.ok) expect(((await again.json()) as Token).conversationId).not.toBe(c.conversationId);
    expect(await storedCount(bot, c.conversationId)).toBe(stored);
  });

  it('gives a new token on refresh; the replaced one works for the grace period only', async () => {
    data = newBotData(dialect);
    const { bot, dl } = await start();
    const c = await dl.startOk();
    bot.advance(15 * MINUTE);
    const next = await refreshOk(bot, c);
    expect(next.conversationId).toBe(c.conversationId);
    expect(next.token).not.toBe(c.token);
    expect(next.expires_in).toBe(TTL_MS / 1000);

    // A poll already on its way with the old token still lands.
    expect((await dl.get(c)).status).toBe(200);
    expect((await dl.get(next)).status).toBe(200);

    bot.advance(REFRESH_GRACE_MS);
    const old = await dl.get(c);
    expect(old.status).toBe(403);
    expect(await errorCode(old)).toBe('TokenExpired');
    expect((await dl.post(c, { type: 'message', text: 'help' })).status).toBe(403);
    expect((await refresh(bot, c.token)).status).toBe(403);
    const res = await dl.post(next, { type: 'message', text: 'help', channelData: { clientActivityID: 'after-refresh' } });
    expect(res.status).toBe(200);
  });

  it('lets a refresh whose answer was lost be retried with the replaced token, and then refuses the oldest', async () => {
    data = newBotData(dialect);
    const { bot, dl } = await start();
    const c = await dl.startOk();
    const lost = await refreshOk(bot, c);
    const retried = await refreshOk(bot, c);
    expect(new Set([c.token, lost.token, retried.token]).size).toBe(3);
    expect((await dl.get(retried)).status).toBe(200);
    expect((await dl.get(c)).status).toBe(403);
  });

  it('keeps a conversation going for hours while the page refreshes every 15 minutes, each old token refused after its grace', async () => {
    data = newBotData(dialect);
    const { bot, dl } = await start();
    const first = await dl.startOk({ locale: 'en-US' });
    let current: Token = first;
    let watermark = (await dl.getOk(current)).watermark;
    for (let i = 0; i < 10; i += 1) {
      bot.advance(15 * MINUTE);
      const next = await refreshOk(bot, current);
      bot.advance(REFRESH_GRACE_MS);
      expect((await dl.get(current)).status).toBe(403);
      current = next;
      const res = await dl.post(current, { type: 'message', text: 'help', channelData: { clientActivityID: `long-${i}` } });
      expect(res.status).toBe(200);
      const { id } = (await res.json()) as { id: string };
      const after = await dl.getOk(current, watermark);
      expect(after.activities.some((a) => a.replyToId === id && a.from.role === 'bot')).toBe(true);
      watermark = after.watermark;
    }
    expect((await dl.get(first)).status).toBe(403);
  });

  it('leaves no conversation open past its token when WEBCHAT_TOKEN changes: refresh is refused, the token expires', async () => {
    data = newBotData(dialect);
    const siteA = 'site-token-a-0123456789abcdef';
    const siteB = 'site-token-b-0123456789abcdef';
    const a = await start({ WEBCHAT_TOKEN: siteA });
    const c = await a.dl.startOk();
    await a.bot.stop();
    running.splice(0);

    // The same site token after a restart: refresh works as before.
    const same = await start({ WEBCHAT_TOKEN: siteA });
    const refreshed = await refreshOk(same.bot, c);
    await same.bot.stop();
    running.splice(0);

    const rotated = await start({ WEBCHAT_TOKEN: siteB });
    expect((await rotated.dl.get(refreshed)).status).toBe(200);
    const refused = await refresh(rotated.bot, refreshed.token);
    expect(refused.status).toBe(403);
    expect(await errorCode(refused)).toBe('Forbidden');
    rotated.bot.advance(TTL_MS);
    expect((await rotated.dl.get(refreshed)).status).toBe(403);
    expect((await refresh(rotated.bot, refreshed.token)).status).toBe(403);
  });
});
