/**
 * Issue 15, item 5, over HTTP on /api/messages with `deliveryMode: expectReplies` (replies in the
 * body): a message over 10,000 characters (Bot Framework's own cap on a message's text, the most a
 * Teams message can hold is more) is never a bare 400 or silence. The bot answers in the person's
 * language that it is too long and asks for a shorter one; the question it asked stands, and the next
 * message is read as usual.
 */
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS } from '../../../src/engine/text';
import { Person, storedView, useSharedBot } from './harness';

const TOO_LONG = {
  en: /too long for me \(over 10,000 characters\).*send a shorter one/s,
  uk: /задовге \(понад 10\s000 символів\).*Надішліть, будь ласка, коротше/s,
} as const;

const bot = useSharedBot();

describe.each([
  ['en', 'en-US', 'emulator', 'a'.repeat(MAX_MESSAGE_CHARS + 1)],
  ['uk', 'uk-UA', 'emulator', 'ї'.repeat(MAX_MESSAGE_CHARS + 1)],
  ['en', 'en-US', 'msteams', 'word '.repeat(6_000)],
  ['uk', 'uk-UA', 'msteams', 'слово '.repeat(6_000)],
] as const)('a message over 10,000 characters in %s (%s) on %s', (lang, locale, channelId, text) => {
  it('is answered with a polite note in that language, and the question stands', async () => {
    const person = new Person(bot.url, { channelId, locale });
    await person.say('the provisioning email never arrived');
    const before = await storedView(bot.app, person.key);
    const asked = person.last.text;

    const { status, replies } = await person.say(text);

    expect(status).toBe(200);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toMatch(TOO_LONG[lang]);
    // The same question again, after the note, with its answers.
    expect(replies[0]!.text.endsWith(asked)).toBe(true);
    expect(replies[0]!.choices.map((c) => c.label)).toEqual(person.seen.at(-2)!.choices.map((c) => c.label));
    expect((await storedView(bot.app, person.key)).step).toBe(before.step);
    // The transcript keeps what the bot read of it: cut, and marked so.
    const said = (await bot.app.store.loadTranscript(person.key)).filter((e) => e.from === 'user').at(-1);
    expect(said?.text).toBe(`${text.trim().slice(0, MAX_MESSAGE_CHARS)}…`);

    const next = await person.say('help');
    expect(next.status).toBe(200);
    expect(next.replies[0]!.text).not.toMatch(TOO_LONG[lang]);
  });
});
