/**
 * Issue 15, item 6, over HTTP on /api/messages (replies in the body): activity ids may be 512
 * characters long (the activity check's bound). A re-delivery of any of the conversation's latest 20
 * activities is not run again (no new turn, nothing stored), however long the ids; the 21st back is
 * no longer remembered. On SQLite and on PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { Person, useSharedBot } from './harness';
import { botDatabases } from '../../support';

const DIALECTS = botDatabases('bf_long_ids');

/** A 512-character activity id, the longest the activity check takes. */
const longId = (n: number) => `${String(n).padStart(3, '0')}:${'f'.repeat(508)}`;

describe.each(DIALECTS)('re-deliveries with 512-character activity ids on %s', (_name, databaseEnv) => {
  const bot = useSharedBot(databaseEnv());

  it('answers a re-delivery of any of the latest 20 activities with nothing, and changes nothing', async () => {
    const person = new Person(bot.url, { channelId: 'emulator', locale: 'en-US' });
    const sent: Record<string, unknown>[] = [];
    for (let n = 1; n <= 25; n++) {
      const activity = person.activity({ id: longId(n), text: n % 2 ? 'help' : 'the email never arrived' });
      expect(longId(n)).toHaveLength(512);
      const { status, replies } = await person.post(activity);
      expect(status).toBe(200);
      expect(replies.length).toBeGreaterThan(0);
      sent.push(activity);
    }
    const stored = await bot.app.store.loadConversation(person.key);
    const transcript = (await bot.app.store.loadTranscript(person.key)).length;

    // 25 back to 6: the latest 20, the oldest of them last. None is run again: the conversation and
    // its transcript stay as they were. (The latest one's replies may be sent again: that is the
    // durable replies' business, not a new turn.)
    for (let n = 25; n >= 6; n--) {
      const again = await person.post(sent[n - 1]!);
      expect(again.status, `activity ${n}`).toBe(200);
      if (n < 25) expect(again.replies, `activity ${n}`).toEqual([]);
      expect(await bot.app.store.loadConversation(person.key), `activity ${n}`).toEqual(stored);
    }
    expect(await bot.app.store.loadTranscript(person.key)).toHaveLength(transcript);

    // The 21st back is forgotten: answered as a new message, a new turn.
    const forgotten = await person.post(sent[4]!);
    expect(forgotten.replies.length).toBeGreaterThan(0);
    expect((await bot.app.store.loadConversation(person.key))?.turn).toBe(stored!.turn + 1);
  });
});
