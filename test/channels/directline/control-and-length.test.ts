/**
 * Issue 15, items 3 and 5, in the web chat over real HTTP (the local Direct Line endpoint), on
 * SQLite and on PostgreSQL:
 * - a control character in an id the browser sends (clientActivityID, locale, event name) or a NUL
 *   anywhere in a value is refused 400 and nothing is stored; a NUL in the text is dropped and the
 *   message answered;
 * - a message over 10,000 characters is taken (never 413 for its text alone, even past the 64 KiB
 *   activity cap), kept cut with `…`, and the bot answers in the person's language that it is too
 *   long, asking for a shorter one; the question stands and the next message is answered as usual.
 */
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS } from '../../../src/engine/text';
import { sharedBot, type ActivitySet, type StartedConversation } from './harness';
import { botDatabases } from '../../support';

const DIALECTS = botDatabases('webchat_control');

const TOO_LONG = {
  en: /too long for me \(over 10,000 characters\).*send a shorter one/s,
  uk: /задовге \(понад 10\s000 символів\).*Надішліть, будь ласка, коротше/s,
} as const;

describe.each(DIALECTS)('the web chat on %s', (_name, databaseEnv) => {
  const web = sharedBot(databaseEnv());

  /** Posts `activity` and returns what the endpoint answered and the activities it added. */
  async function send(c: StartedConversation, activity: Record<string, unknown>): Promise<{ status: number; added: ActivitySet['activities'] }> {
    const { watermark } = await web.dl.getOk(c);
    const res = await web.dl.post(c, activity);
    return { status: res.status, added: (await web.dl.getOk(c, watermark)).activities };
  }

  const botText = (added: ActivitySet['activities']) =>
    added
      .filter((a) => a.from.role === 'bot')
      .map((a) => String(a.text ?? ''))
      .join('\n\n');

  it.each([
    ['a NUL byte in clientActivityID', { type: 'message', text: 'hello', channelData: { clientActivityID: 'c\u00001' } }],
    ['a line break in clientActivityID', { type: 'message', text: 'hello', channelData: { clientActivityID: 'c-1\nc-2' } }],
    ['a NUL byte in the locale', { type: 'message', text: 'hello', locale: 'en\u0000' }],
    ['a control character in an event name', { type: 'event', name: 'webchat/setLanguage\u0001', value: 'uk' }],
    ['a NUL byte in a card press', { type: 'message', value: { choice: 'yes\u0000', step: 'N1' } }],
    ['a NUL byte in a key of a value', { type: 'message', value: { ['cho\u0000ice']: 'yes' } }],
  ])('refuses %s with 400 and stores nothing', async (_what, activity) => {
    const c = await web.dl.startOk();
    const before = await web.stored(c.conversationId);
    const { status, added } = await send(c, activity);
    expect(status).toBe(400);
    expect(added).toEqual([]);
    expect(await web.stored(c.conversationId)).toBe(before);
  });

  it('answers a message with a NUL byte in its text, kept and shown without it', async () => {
    const plain = await send(await web.dl.startOk({ locale: 'en-US' }), { type: 'message', text: 'my email never arrived' });
    const c = await web.dl.startOk({ locale: 'en-US' });
    const { status, added } = await send(c, { type: 'message', text: 'my email\u0000 never arrived', channelData: { clientActivityID: 'nul-text' } });
    expect(status).toBe(200);
    expect(added[0]).toMatchObject({ from: { role: 'user' }, text: 'my email never arrived' });
    expect(botText(added)).toBe(botText(plain.added));
    expect(botText(added)).not.toBe('');
  });

  it.each([
    ['en', 'en-US', 'x'.repeat(MAX_MESSAGE_CHARS + 1)],
    ['uk', 'uk-UA', 'ї'.repeat(MAX_MESSAGE_CHARS + 5_000)],
    // 80 KB of UTF-8: past the 64 KiB activity cap, which counts the text as cut.
    ['uk', 'uk-UA', 'ї'.repeat(40_000)],
  ] as const)('answers a message over 10,000 characters in %s (%s) politely, and goes on as before', async (lang, locale, text) => {
    const c = await web.dl.startOk({ locale });
    const greeting = botText((await web.dl.getOk(c)).activities);
    const { status, added } = await send(c, { type: 'message', text, channelData: { clientActivityID: 'long-1' } });
    expect(status).toBe(200);
    // Kept as the bot read it: cut, and marked so.
    const echo = added.find((a) => a.from.role === 'user');
    expect(echo?.text).toBe(`${text.slice(0, MAX_MESSAGE_CHARS)}…`);
    const answer = botText(added);
    expect(answer).toMatch(TOO_LONG[lang]);
    // The question stands: the answer repeats the first question after the note.
    expect(answer.endsWith(greeting.split('\n\n').at(-1)!)).toBe(true);
    // A shorter message afterwards is read as usual.
    const next = await send(c, { type: 'message', text: 'hello', channelData: { clientActivityID: 'short-1' } });
    expect(next.status).toBe(200);
    expect(botText(next.added)).not.toMatch(TOO_LONG[lang]);
  });
});
