import { describe, expect, it } from 'vitest';
import { lazy, useShared } from '../../support';
import { DirectLineTestClient, startBot, type ActivitySet } from './harness';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

function uploadForm(file: Blob, name: string, activity: unknown = { type: 'message', channelData: { clientActivityID: 'up-1' } }): FormData {
  const form = new FormData();
  form.append('activity', new Blob([JSON.stringify(activity)], { type: 'application/vnd.microsoft.activity' }));
  form.append('file', file, name);
  return form;
}

describe('Direct Line endpoint (loopback, no token configured)', () => {
  const bot = useShared(() => startBot({ WEBCHAT_MAX_UPLOAD_BYTES: '65536' }));
  const dl = lazy(() => new DirectLineTestClient(bot.url));

  it('starts a conversation with its own token, and the bot greets with ISO-timestamped activities', async () => {
    const res = await dl.start({}, { locale: 'en-US' });
    expect(res.status).toBe(201);
    const c = (await res.json()) as { conversationId: string; token: string; userId: string };
    expect(c.conversationId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(c.token.startsWith(`${c.conversationId}.`)).toBe(true);

    const set = await dl.getOk(c);
    expect(set.activities.length).toBeGreaterThan(0);
    for (const a of set.activities) {
      expect(a.timestamp).toMatch(ISO);
      expect(a.from.role).toBe('bot');
      expect(a.conversation).toEqual({ id: c.conversationId });
    }
    const greeting = set.activities[0]!;
    expect(greeting.type).toBe('message');
    expect(String(greeting.text)).not.toBe('');
    expect(set.watermark).toBe(String(set.activities.length));
  });

  it("echoes the person's activity with the id it answered and the same clientActivityID, before the bot's answer", async () => {
    const c = await dl.startOk({ locale: 'en-US' });
    const { watermark } = await dl.getOk(c);
    const res = await dl.post(c, { type: 'message', text: 'help', from: { id: 'someone-else' }, locale: 'en-US', channelData: { clientActivityID: 'client-42' } });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    expect(id).toBeTruthy();

    const after = await dl.getOk(c, watermark);
    const [echo, ...answers] = after.activities;
    expect(echo).toMatchObject({ id, type: 'message', text: 'help', channelData: { clientActivityID: 'client-42' } });
    // The conversation's own user, not whoever the body claims to be.
    expect(echo!.from).toMatchObject({ id: c.userId, role: 'user' });
    expect(echo!.timestamp).toMatch(ISO);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((a) => a.from.role === 'bot' && a.replyToId === id)).toBe(true);
  });

  it('handles a retried post (same clientActivityID) once', async () => {
    const c = await dl.startOk();
    const { watermark } = await dl.getOk(c);
    const activity = { type: 'message', text: 'help', channelData: { clientActivityID: 'retry-1' } };
    const first = (await (await dl.post(c, activity)).json()) as { id: string };
    const second = (await (await dl.post(c, activity)).json()) as { id: string };
    expect(second.id).toBe(first.id);
    const after = await dl.getOk(c, watermark);
    expect(after.activities.filter((a) => (a.channelData as { clientActivityID?: string } | undefined)?.clientActivityID === 'retry-1')).toHaveLength(1);
    expect(after.activities.filter((a) => a.replyToId === first.id).length).toBeGreaterThan(0);
  });

  it('hands out every activity exactly once to a reader that follows the watermark while messages arrive', async () => {
    const c = await dl.startOk();
    const seen: ActivitySet['activities'] = [];
    let watermark = '';
    const poll = async () => {
      const set = await dl.getOk(c, watermark);
      seen.push(...set.activities);
      watermark = set.watermark;
    };
    const texts = ['help', 'back', 'help', 'what?', 'help', 'back', 'help', 'hmm'];
    // One reader polls in a loop (as Web Chat does: one request at a time) while posts arrive two at a time.
    let posting = true;
    const reader = (async () => {
      while (posting) await poll();
    })();
    for (let i = 0; i < texts.length; i += 2) {
      await Promise.all([
        dl.post(c, { type: 'message', text: texts[i], channelData: { clientActivityID: `w-${i}` } }),
        dl.post(c, { type: 'message', text: texts[i + 1], channelData: { clientActivityID: `w-${i + 1}` } }),
      ]);
    }
    posting = false;
    await reader;
    await poll();
    const all = await dl.getOk(c);
    const ids = seen.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(all.activities.map((a) => a.id));
    expect(watermark).toBe(all.watermark);
    const echoes = all.activities.filter((a) => a.from.role === 'user');
    expect(echoes.map((a) => (a.channelData as { clientActivityID: string }).clientActivityID).sort()).toEqual(texts.map((_, i) => `w-${i}`).sort());
    // Nothing new: the same watermark comes back with no activities.
    const idle = await dl.getOk(c, watermark);
    expect(idle).toEqual({ activities: [], watermark });
  });

  it('acknowledges typing indicators without keeping them or running the bot', async () => {
    const c = await dl.startOk();
    const { watermark } = await dl.getOk(c);
    const res = await dl.post(c, { type: 'typing' });
    expect(res.status).toBe(200);
    expect(await dl.getOk(c, watermark)).toEqual({ activities: [], watermark });
  });

  it('rejects a watermark it never handed out', async () => {
    const c = await dl.startOk();
    expect((await dl.get(c, 'abc')).status).toBe(400);
  });

  it('answers 404 for an unknown conversation on every conversation route', async () => {
    const ghost = { conversationId: 'NoSuchConversation0000', token: 'NoSuchConversation0000.x' };
    expect((await dl.get(ghost)).status).toBe(404);
    expect((await dl.post(ghost, { type: 'message', text: 'hi' })).status).toBe(404);
    const reconnect = await fetch(`${bot.url}/directline/conversations/${ghost.conversationId}`, { headers: { authorization: `Bearer ${ghost.token}` } });
    expect(reconnect.status).toBe(404);
    const upload = await fetch(`${bot.url}/directline/conversations/${ghost.conversationId}/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ghost.token}` },
      body: uploadForm(new Blob([PNG], { type: 'image/png' }), 'shot.png'),
    });
    expect(upload.status).toBe(404);
  });

  it("keeps one browser out of another's conversation: its token, or none, is refused", async () => {
    const mine = await dl.startOk();
    const theirs = await dl.startOk();
    const crossed = { conversationId: theirs.conversationId, token: mine.token };
    expect((await dl.get(crossed)).status).toBe(403);
    expect((await dl.post(crossed, { type: 'message', text: 'hi' })).status).toBe(403);
    const bare = await fetch(`${bot.url}/directline/conversations/${theirs.conversationId}/activities?watermark=`);
    expect(bare.status).toBe(403);
    // Its own token still works.
    expect((await dl.get(theirs)).status).toBe(200);
  });

  it('resumes a conversation from its token: reconnect, token refresh and a start with that token', async () => {
    const c = await dl.startOk();
    const auth = { authorization: `Bearer ${c.token}` };
    const reconnect = await fetch(`${bot.url}/directline/conversations/${c.conversationId}?watermark=`, { headers: auth });
    expect(reconnect.status).toBe(200);
    expect(await reconnect.json()).toMatchObject({ conversationId: c.conversationId, token: c.token });
    const refresh = await fetch(`${bot.url}/directline/tokens/refresh`, { method: 'POST', headers: auth });
    // A new token for the same conversation (expiry and rotation: token-expiry.test.ts).
    const refreshed = (await refresh.json()) as { conversationId: string; token: string };
    expect(refreshed.conversationId).toBe(c.conversationId);
    expect(refreshed.token.startsWith(`${c.conversationId}.`) && refreshed.token !== c.token).toBe(true);
    const again = await dl.start(auth);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ conversationId: c.conversationId });
  });

  it('stores an uploaded screenshot, echoes it as an attachment and serves it back by URL', async () => {
    const c = await dl.startOk();
    const { watermark } = await dl.getOk(c);
    const res = await fetch(`${bot.url}/directline/conversations/${c.conversationId}/upload?userId=${c.userId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.token}` },
      body: uploadForm(new Blob([PNG], { type: 'image/png' }), 'screen shot.png'),
    });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    const after = await dl.getOk(c, watermark);
    const echo = after.activities.find((a) => a.id === id)!;
    expect(echo.channelData).toMatchObject({ clientActivityID: 'up-1' });
    const [attachment] = echo.attachments as Array<{ contentType: string; contentUrl: string; name: string }>;
    expect(attachment).toMatchObject({ contentType: 'image/png', name: 'screen shot.png' });
    expect(attachment!.contentUrl.startsWith(`${bot.url}/directline/attachments/${c.conversationId}/`)).toBe(true);
    const file = await fetch(attachment!.contentUrl);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await file.arrayBuffer()).equals(PNG)).toBe(true);
    expect(after.activities.some((a) => a.replyToId === id && a.from.role === 'bot')).toBe(true);
  });

  it('serves a file that is not an image as a download, never as a page', async () => {
    const c = await dl.startOk();
    const res = await fetch(`${bot.url}/directline/conversations/${c.conversationId}/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.token}` },
      body: uploadForm(new Blob(['<script>alert(1)</script>'], { type: 'text/html' }), 'x.html'),
    });
    const { id } = (await res.json()) as { id: string };
    const echo = (await dl.getOk(c)).activities.find((a) => a.id === id)!;
    const url = (echo.attachments as Array<{ contentUrl: string }>)[0]!.contentUrl;
    const file = await fetch(url);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.headers.get('content-disposition')).toMatch(/^attachment;/);
  });

  it('answers 413 for a file over the limit and stores nothing', async () => {
    const c = await dl.startOk();
    const before = await dl.getOk(c);
    const res = await fetch(`${bot.url}/directline/conversations/${c.conversationId}/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.token}` },
      body: uploadForm(new Blob([new Uint8Array(70_000)], { type: 'image/png' }), 'big.png'),
    });
    expect(res.status).toBe(413);
    const after = await dl.getOk(c, before.watermark);
    expect(after.activities).toEqual([]);
  });

  it('serves the page with Web Chat from the installed package, not a CDN', async () => {
    const page = await fetch(`${bot.url}/?lang=uk`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script src="/webchat/webchat.js"></script>');
    expect(html).not.toMatch(/https?:\/\/(?!localhost)[^"']*\.js/);
    expect(html).toContain('<html lang="uk">');
    const bundle = await fetch(`${bot.url}/webchat/webchat.js`);
    expect(bundle.status).toBe(200);
    expect(await bundle.text()).toContain('renderWebChat');
    const etag = bundle.headers.get('etag');
    expect(etag).toBeTruthy();
    expect((await fetch(`${bot.url}/webchat/webchat.js`, { headers: { 'if-none-match': etag! } })).status).toBe(304);
    expect((await fetch(`${bot.url}/webchat/nope.js`)).status).toBe(404);
  });
});

describe('Direct Line conversations in the store', () => {
  it('continues a conversation after the server restarts: history, token and the next turn', async () => {
    const first = await startBot();
    const dl1 = new DirectLineTestClient(first.url);
    const c = await dl1.startOk({ locale: 'en-US' });
    await dl1.post(c, { type: 'message', text: 'help', channelData: { clientActivityID: 'before-restart' } });
    const before = await dl1.getOk(c);
    await first.stop(true);

    const second = await startBot({}, first.dir);
    try {
      const dl2 = new DirectLineTestClient(second.url);
      const after = await dl2.getOk(c);
      expect(after).toEqual(before);
      const res = await dl2.post(c, { type: 'message', text: 'help', channelData: { clientActivityID: 'after-restart' } });
      expect(res.status).toBe(200);
      const { id } = (await res.json()) as { id: string };
      const next = await dl2.getOk(c, before.watermark);
      expect(next.activities[0]!.id).toBe(id);
      expect(Number(next.watermark)).toBeGreaterThan(Number(before.watermark));
      // The retry rule holds across the restart too.
      const again = await dl2.post(c, { type: 'message', text: 'help', channelData: { clientActivityID: 'before-restart' } });
      expect(((await again.json()) as { id: string }).id).toBe(before.activities.find((a) => a.from.role === 'user')!.id);
    } finally {
      await second.stop();
    }
  });
});

describe('Direct Line token rule', () => {
  const SITE_TOKEN = 'site-token-0123456789abcdef';
  const REMOTE = { 'x-forwarded-for': '203.0.113.7' };

  it('refuses conversations and the page to browsers not on this machine when no token is configured', async () => {
    const bot = await startBot();
    try {
      const dl = new DirectLineTestClient(bot.url);
      expect((await dl.start(REMOTE)).status).toBe(403);
      expect((await dl.start({ ...REMOTE, authorization: `Bearer ${SITE_TOKEN}` })).status).toBe(403);
      expect((await fetch(`${bot.url}/`, { headers: REMOTE })).status).toBe(403);
      // The same machine without proxy headers is let in.
      expect((await dl.start()).status).toBe(201);
    } finally {
      await bot.stop();
    }
  });

  it('lets a remote browser in with the site token only, and its conversation still needs its own token', async () => {
    const bot = await startBot({ WEBCHAT_TOKEN: SITE_TOKEN });
    try {
      const dl = new DirectLineTestClient(bot.url);
      expect((await dl.start(REMOTE)).status).toBe(403);
      expect((await dl.start({ ...REMOTE, authorization: 'Bearer wrong-token-0123456789' })).status).toBe(403);
      const ok = await dl.start({ ...REMOTE, authorization: `Bearer ${SITE_TOKEN}` });
      expect(ok.status).toBe(201);
      const c = (await ok.json()) as { conversationId: string; token: string };
      // The site token opens no conversation by itself.
      expect((await dl.get({ conversationId: c.conversationId, token: SITE_TOKEN })).status).toBe(403);
      expect((await dl.get(c)).status).toBe(200);

      const refused = await fetch(`${bot.url}/`, { headers: { ...REMOTE, 'accept-language': 'uk-UA' } });
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('<html lang="uk">');
      // The page's token is traded for a cookie (test/channels/directline/site-cookie.test.ts).
      expect((await fetch(`${bot.url}/?token=${SITE_TOKEN}`, { headers: REMOTE, redirect: 'manual' })).status).toBe(303);
    } finally {
      await bot.stop();
    }
  });

  it('serves neither the page nor the endpoint when WEBCHAT_ENABLED=false', async () => {
    const bot = await startBot({ WEBCHAT_ENABLED: 'false' });
    try {
      expect((await fetch(`${bot.url}/`)).status).toBe(404);
      expect((await new DirectLineTestClient(bot.url).start()).status).toBe(404);
    } finally {
      await bot.stop();
    }
  });
});
