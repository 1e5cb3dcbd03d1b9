/**
 * A status update from the support system reaches the person without their writing first: the
 * assembled app (CASE_BACKEND=webhook, web chat on) takes a signed update on POST /api/cases/events
 * and the web chat conversation of the case gets it in its language, read back over HTTP as Web
 * Chat polls. Each update is told once: a repeat of its event id tells nobody again, and a new
 * app on the same SQLite file neither repeats what was told nor forgets what was not. "Status of
 * PCE-…" answers with the live status and its history.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Application } from '../../src/app';
import { signBody } from '../../src/cases/backends/webhook';
import type { Locale } from '../../src/engine/types';
import { createTranslator } from '../../src/i18n';
import type { SqlStore } from '../../src/storage';
import { captureLogs, createApp, dataIn, testConfig, testDir } from '../support';
import { seedCase } from './helpers';

const SECRET = 'case-updates-told-secret-0123';
const t = createTranslator();
const apps: Application[] = [];
let dir = '';

beforeEach(() => {
  dir = testDir('case-updates-told-').path;
});
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close(2_000);
});

async function start(logger?: ReturnType<typeof captureLogs>['logger']): Promise<{ app: Application; url: string }> {
  const app = await createApp(
    testConfig({
      ...dataIn(dir),
      CASE_BACKEND: 'webhook',
      CASE_WEBHOOK_URL: 'http://127.0.0.1:9/hooks/cases',
      CASE_WEBHOOK_SECRET: SECRET,
      CASE_DELIVERY_POLL_SECONDS: '0.05',
      WEBCHAT_ENABLED: 'true',
    }),
    logger ? { logger } : {},
  );
  apps.push(app);
  const { url } = await app.listen(0, '127.0.0.1');
  return { app, url };
}

async function stop(app: Application): Promise<void> {
  apps.splice(apps.indexOf(app), 1);
  await app.close(2_000);
}

interface Conversation {
  conversationId: string;
  token: string;
  userId: string;
}
type Activity = { type: string; text?: string; from: { id: string; role?: string } };

async function startConversation(url: string, locale: Locale): Promise<Conversation> {
  const res = await fetch(`${url}/directline/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ locale }) });
  expect(res.status).toBe(201);
  return (await res.json()) as Conversation;
}

async function activities(url: string, c: Conversation, watermark = ''): Promise<{ activities: Activity[]; watermark: string }> {
  const res = await fetch(`${url}/directline/conversations/${c.conversationId}/activities?watermark=${watermark}`, { headers: { authorization: `Bearer ${c.token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { activities: Activity[]; watermark: string };
}

/** The bot's messages after `watermark`. */
async function botTexts(url: string, c: Conversation, watermark: string): Promise<string[]> {
  return (await activities(url, c, watermark)).activities.filter((a) => a.type === 'message' && a.from.role === 'bot').map((a) => a.text ?? '');
}

function sendEvent(url: string, event: Record<string, unknown>): Promise<Response> {
  const body = JSON.stringify(event);
  return fetch(`${url}/api/cases/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature-256': signBody(body, SECRET) }, body });
}

/** A delivered case of this web chat conversation (the outbox leaves it alone). */
async function seedWebChatCase(app: Application, c: Conversation, locale: Locale) {
  return seedCase(app.store as SqlStore, {
    conversationKey: `directline:${c.conversationId}`,
    channel: 'directline',
    locale,
    openedBy: { kind: 'person', userKey: `directline:${c.userId}`, name: 'Oksana' },
    delivery: { backend: 'webhook', status: 'delivered', attempts: 1, externalId: 'TCK-1', deliveredAt: '2026-11-25T10:01:00.000Z' },
  });
}

/** Long enough for many passes of the 50 ms worker: what was not told by now would have been. */
const settle = () => new Promise((r) => setTimeout(r, 600));

describe('a case update, told without being asked', () => {
  it('in English: the status in plain words and the note quoted as written, once; a repeat tells nobody', async () => {
    const logs = captureLogs('debug');
    const { app, url } = await start(logs.logger);
    const c = await startConversation(url, 'en');
    const { watermark } = await activities(url, c);
    const record = await seedWebChatCase(app, c, 'en');
    const note = 'Checked the order: the "Provisioning Contact Email" field is locked <until> Monday.';
    const event = { eventId: 'evt-en-1', reference: record.reference, status: 'in_progress', message: note };

    expect((await sendEvent(url, event)).status).toBe(200);
    // The lines of one update arrive as one message, a paragraph each.
    const expected = [
      [
        `Update on your support case ${record.reference}: an engineer is working on it.`,
        `The support engineer wrote: “${note}”`,
      ].join('\n\n'),
    ];
    await vi.waitFor(async () => expect(await botTexts(url, c, watermark)).toEqual(expected), { timeout: 10_000, interval: 50 });

    const repeat = await sendEvent(url, event);
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toEqual({ status: 'repeat' });
    await settle();
    expect(await botTexts(url, c, watermark)).toEqual(expected);
    // The engineer's note is personal data: in the conversation, never in the log.
    expect(logs.lines.some((l) => JSON.stringify(l).includes('Provisioning Contact Email'))).toBe(false);
    expect(logs.lines.find((l) => l.msg === 'case update told')).toMatchObject({ case: record.reference, result: 'sent' });
  });

  it('in Ukrainian: waiting for the person, with the ticket id and what is expected of them', async () => {
    const { app, url } = await start();
    const c = await startConversation(url, 'uk');
    const { watermark } = await activities(url, c);
    const record = await seedWebChatCase(app, c, 'uk');
    const note = 'Надішліть, будь ласка, знімок екрана з CCW.';

    expect((await sendEvent(url, { eventId: 'evt-uk-1', reference: record.reference, status: 'waiting_for_customer', ticketId: 'SR-700123', message: note })).status).toBe(200);
    await vi.waitFor(
      async () =>
        expect(await botTexts(url, c, watermark)).toEqual([
          [
            `Новини щодо вашого звернення ${record.reference} (заявка SR-700123): чекає на вашу відповідь.`,
            `Інженер підтримки написав: «${note}»`,
            'Команда підтримки чекає на вашу відповідь: напишіть її тут, і я передам ваше повідомлення (і файли, якщо є) інженерові підтримки.',
          ].join('\n\n'),
        ]),
      { timeout: 10_000, interval: 50 },
    );
  });

  it('across a restart on the same SQLite file: an update stored but not yet told is told once by the next app, and its repeat tells nobody', async () => {
    const first = await start();
    const c = await startConversation(first.url, 'en');
    const { watermark } = await activities(first.url, c);
    const record = await seedWebChatCase(first.app, c, 'en');
    // The first instance stores the update and stops before telling it (as if it died right after answering 200).
    await first.app.cases.updateNotices!.stop();
    // Not "resolved" or "closed": those ask whether the problem is solved (closure-*.test.ts).
    const event = { eventId: 'evt-restart-1', reference: record.reference, status: 'in_progress' };
    expect((await sendEvent(first.url, event)).status).toBe(200);
    await settle();
    expect(await botTexts(first.url, c, watermark)).toEqual([]);
    await stop(first.app);

    const second = await start();
    const expected = [t.t('en', 'proactive:caseUpdate.status', { reference: record.reference, status: t.t('en', 'proactive:caseUpdate.statuses.in_progress') })];
    await vi.waitFor(async () => expect(await botTexts(second.url, c, watermark)).toEqual(expected), { timeout: 10_000, interval: 50 });
    expect(await (await sendEvent(second.url, event)).json()).toEqual({ status: 'repeat' });
    await stop(second.app);

    // A third start tells nothing again.
    const third = await start();
    await settle();
    expect(await botTexts(third.url, c, watermark)).toEqual(expected);
    expect(await third.app.cases.updates.countUntold()).toBe(0);
  });

  it('"status of PCE-…" shows the live status and its history, without the notes', async () => {
    const { app, url } = await start();
    const c = await startConversation(url, 'en');
    const record = await seedWebChatCase(app, c, 'en');
    for (const [i, status] of (['open', 'in_progress', 'waiting_for_customer'] as const).entries()) {
      expect((await sendEvent(url, { eventId: `evt-h-${i}`, reference: record.reference, status, message: `secret note ${i}` })).status).toBe(200);
    }
    await vi.waitFor(async () => expect(await app.cases.updates.countUntold()).toBe(0), { timeout: 10_000, interval: 50 });
    const { watermark } = await activities(url, c);

    const res = await fetch(`${url}/directline/conversations/${c.conversationId}/activities`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` },
      body: JSON.stringify({ type: 'message', text: `status of ${record.reference}`, from: { id: c.userId } }),
    });
    expect(res.status).toBe(200);
    let answer = '';
    await vi.waitFor(
      async () => {
        answer = (await botTexts(url, c, watermark)).join('\n');
        expect(answer).toContain(t.t('en', 'cases:status.live.waiting_for_customer', { reference: record.reference }));
      },
      { timeout: 10_000, interval: 50 },
    );
    const history = await app.cases.updates.history(record.reference);
    expect(history.map((u) => u.status)).toEqual(['open', 'in_progress', 'waiting_for_customer']);
    expect(answer).toContain(t.t('en', 'cases:status.historyTitle'));
    for (const u of history) expect(answer).toContain(t.t('en', `cases:status.historyEntry.${u.status}`, { at: `${u.receivedAt.slice(0, 10)} ${u.receivedAt.slice(11, 16)} UTC` }));
    expect(answer).not.toContain('secret note');
  });
});
