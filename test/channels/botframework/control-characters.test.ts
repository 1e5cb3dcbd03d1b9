/**
 * Issue 15, item 3, over HTTP on /api/messages (the Emulator's way, replies in the body): an
 * activity with a control character in an id (a NUL byte, which PostgreSQL cannot store, or any
 * other) is refused 400 at validation and nothing of it is stored; a NUL byte in the text is dropped
 * and the message answered as without it. On SQLite and on PostgreSQL.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { SqlStore } from '../../../src/storage/index';
import { Person, useSharedBot } from './harness';
import { botDatabases } from '../../support';

const DIALECTS = botDatabases('bf_control');

describe.each(DIALECTS)('control characters in activities on %s', (_name, databaseEnv) => {
  const bot = useSharedBot(databaseEnv());

  /** Rows of every table a turn writes. */
  async function storedRows(): Promise<number> {
    const { rows } = await sql<{ n: string | number }>`select
      (select count(*) from conversations) + (select count(*) from transcript_entries) + (select count(*) from funnel_events) as n`.execute(
      (bot.app.store as SqlStore).db,
    );
    return Number(rows[0]!.n);
  }

  const person = () => new Person(bot.url, { channelId: 'emulator', locale: 'en-US' });

  it.each([
    ['a NUL byte in the activity id', (p: Person) => ({ id: `act\u0000-1` })],
    ['a NUL byte in the conversation id', (p: Person) => ({ conversation: { id: `${p.conversationId}\u0000` } })],
    ['a NUL byte in from.id', (p: Person) => ({ from: { id: `${p.userId}\u0000`, name: 'Olena Partner' } })],
    ['a NUL byte in recipient.id', () => ({ recipient: { id: 'bot\u0000', name: 'PCE Support' } })],
    ['a NUL byte in replyToId', () => ({ replyToId: 'card\u0000' })],
    ['a line break in the activity id', () => ({ id: 'act-1\nact-2' })],
    ['a C1 control character in the conversation id', (p: Person) => ({ conversation: { id: `${p.conversationId}\u0085` } })],
    ['an escape character in from.id', (p: Person) => ({ from: { id: `${p.userId}\u001b[31m` } })],
  ])('refuses %s with 400 and stores nothing', async (_what, fields) => {
    const p = person();
    const before = await storedRows();
    const exchange = await p.post(p.activity({ text: 'hello', ...fields(p) }));
    expect(exchange.status).toBe(400);
    expect(exchange.replies).toEqual([]);
    expect(await storedRows()).toBe(before);
    expect(await bot.app.store.loadConversation(p.key)).toBeUndefined();
  });

  it('answers a message with a NUL byte in its text as it answers the text without it, and stores the text without it', async () => {
    const plain = await person().say('my email never arrived');
    const p = person();
    const poisoned = await p.say('my email\u0000 never\u0007 arrived');
    expect(poisoned.status).toBe(200);
    expect(poisoned.replies.map((r) => r.text)).toEqual(plain.replies.map((r) => r.text));
    expect(poisoned.replies.length).toBeGreaterThan(0);
    const transcript = await bot.app.store.loadTranscript(p.key);
    expect(transcript[0]).toMatchObject({ from: 'user', text: 'my email never arrived' });
  });
});
