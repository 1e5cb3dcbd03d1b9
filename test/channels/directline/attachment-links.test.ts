/**
 * Issue 14, item 6: links to web chat uploads end up in the case summary support engineers read, so a
 * Host or X-Forwarded-Proto header a client made up must never become part of one. Links start with
 * PUBLIC_URL when it is set, else with the Host only when it names this machine; X-Forwarded-Proto
 * counts only from TRUSTED_PROXIES. Over real HTTP (raw requests: a client chooses its Host header).
 */
import { request } from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createTranslator } from '../../../src/i18n';
import { DirectLineTestClient, startBotForTest, type RunningBot, type StartedConversation } from './harness';

const EVIL_HOST = 'support-portal.evil.example';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const t = createTranslator();

/** A multipart upload sent with exactly the headers given (Host included). */
async function rawUpload(base: string, c: StartedConversation, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const form = new FormData();
  form.append('activity', new Blob([JSON.stringify({ type: 'message' })], { type: 'application/vnd.microsoft.activity' }));
  form.append('file', new Blob([PNG], { type: 'image/png' }), 'ccw-error.png');
  const encoded = new Request('http://encoder.invalid/', { method: 'POST', body: form });
  const body = Buffer.from(await encoded.arrayBuffer());
  const url = new URL(`${base}/directline/conversations/${c.conversationId}/upload`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': encoded.headers.get('content-type')!,
          'content-length': String(body.length),
          authorization: `Bearer ${c.token}`,
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Every row of every table of the bot's SQLite store, as text. */
async function everythingStored(b: RunningBot): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const db = (b.app.store as unknown as { db: Kysely<any> }).db;
  const tables = (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows;
  const dumps = await Promise.all(tables.map(async ({ name }) => JSON.stringify((await sql`select * from ${sql.table(name)}`.execute(db)).rows)));
  return dumps.join('\n');
}

/** The attachment link of the echoed upload. */
async function linkOf(b: RunningBot, c: StartedConversation, uploadBody: string): Promise<string> {
  const { id } = JSON.parse(uploadBody) as { id: string };
  const echo = (await new DirectLineTestClient(b.url).getOk(c)).activities.find((a) => a.id === id);
  return (echo?.attachments as Array<{ contentUrl: string }> | undefined)?.[0]?.contentUrl ?? '';
}

/** Types the answers of the support-case intake up to its attachments step. */
async function toAttachmentStep(dl: DirectLineTestClient, c: StartedConversation): Promise<void> {
  for (const text of ['talk to support', '104857391', 'Sub123456', 'old.contact@example.com', 'new.contact@example.com']) {
    expect((await dl.post(c, { type: 'message', text, locale: 'en-US' })).status).toBe(200);
  }
}

function filesOf(b: RunningBot, conversationId: string): string[] {
  const dir = join(b.dir, 'uploads', conversationId);
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('links to uploaded files', () => {
  it('refuses an upload naming a made-up Host before it is read: nothing is stored', async () => {
    const bot = await startBotForTest();
    const c = await new DirectLineTestClient(bot.url).startOk({ locale: 'en-US' });
    const res = await rawUpload(bot.url, c, { host: EVIL_HOST, 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(421);
    expect(filesOf(bot, c.conversationId)).toEqual([]);
    expect(await everythingStored(bot)).not.toContain('evil.example');
  });

  it('keeps a Host the operator allowed, but not in PUBLIC_URL, out of the case support reads', async () => {
    const bot = await startBotForTest({ ALLOWED_HOSTS: EVIL_HOST });
    const dl = new DirectLineTestClient(bot.url);
    const c = await dl.startOk({ locale: 'en-US' });
    await toAttachmentStep(dl, c);
    const res = await rawUpload(bot.url, c, { host: EVIL_HOST, 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(200);
    // A path: the page resolves it against its own address; nothing of the Host is kept.
    expect(await linkOf(bot, c, res.body)).toMatch(new RegExp(`^/directline/attachments/${c.conversationId}/[0-9a-f]+$`));

    await dl.post(c, { type: 'message', text: t.t('en', 'support-case:attachments.done'), locale: 'en-US' });
    await dl.post(c, { type: 'message', text: t.t('en', 'support-case:summary.confirm'), locale: 'en-US' });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const db = (bot.app.store as unknown as { db: Kysely<any> }).db;
    const cases = await db.selectFrom('cases').select('record').execute();
    expect(cases).toHaveLength(1);
    expect(JSON.stringify(cases[0]!.record)).toContain(`/directline/attachments/${c.conversationId}/`);
    expect(await everythingStored(bot)).not.toContain('evil.example');
  });

  it('starts links with PUBLIC_URL when it is set, whatever Host the browser used', async () => {
    const bot = await startBotForTest({ PUBLIC_URL: 'https://support-bot.example.org/' });
    const c = await new DirectLineTestClient(bot.url).startOk({ locale: 'en-US' });
    const port = new URL(bot.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, 'support-bot.example.org']) {
      const res = await rawUpload(bot.url, c, { host });
      expect(res.status).toBe(200);
      expect(await linkOf(bot, c, res.body)).toMatch(/^https:\/\/support-bot\.example\.org\/directline\/attachments\//);
    }
  });

  it('believes X-Forwarded-Proto only from a trusted proxy', async () => {
    const direct = await startBotForTest();
    const c = await new DirectLineTestClient(direct.url).startOk({ locale: 'en-US' });
    const host = `localhost:${new URL(direct.url).port}`;
    const untrusted = await rawUpload(direct.url, c, { host, 'x-forwarded-proto': 'https' });
    expect(await linkOf(direct, c, untrusted.body)).toMatch(new RegExp(`^http://${host}/directline/attachments/`));
    await direct.stop();

    const bot = await startBotForTest({ TRUSTED_PROXIES: '127.0.0.1' });
    const c2 = await new DirectLineTestClient(bot.url).startOk({ locale: 'en-US' });
    const host2 = `localhost:${new URL(bot.url).port}`;
    const trusted = await rawUpload(bot.url, c2, { host: host2, 'x-forwarded-proto': 'https' });
    expect(await linkOf(bot, c2, trusted.body)).toMatch(new RegExp(`^https://${host2}/directline/attachments/`));
  });
});
