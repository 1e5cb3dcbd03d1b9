/**
 * Migration 0021 rebuilds SQLite's kept replies as a WITHOUT ROWID table keyed by conversation and
 * turn (on PostgreSQL it changes nothing). Replies kept by the release before it, sent and still
 * pending, come through the upgrade as they were: the worker still finds what is owed, the next
 * turn still prunes what was sent, and the pending index is there again.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { BotRepliesRepository } from '../../../src/channels/botframework/replies-repository';
import { turnCommit } from '../../storage/harness';
import { upgradeDialects } from '../../storage/store-at-migration';

const BEFORE_0021 = '0020-conversation-channel-mark';
const SENT = 'msteams:upgrade-sent';
const OWED = 'msteams:upgrade-owed';
const T0 = '2026-03-01T10:00:00.000Z';

function row(key: string, turn: number, state: string, text: string) {
  return {
    conversation_key: key,
    turn,
    activity_key: `${key}:a${turn}`,
    locale: 'uk',
    messages: JSON.stringify([{ paragraphs: [text], choices: [], links: [], facts: [] }]),
    state,
    done: state === 'sent' ? 1 : 0,
    attempts: state === 'sent' ? 0 : 2,
    next_attempt_at: state === 'pending' ? T0 : null,
    claimed_by: null,
    claimed_until: null,
    last_error: state === 'pending' ? 'connector answered 503' : null,
    created_at: T0,
  };
}

describe.each(upgradeDialects)('kept replies across migration 0021 on $name', ({ name, at }) => {
  it('keeps every row, still owes what was pending and prunes what was sent', async () => {
    const old = await at(BEFORE_0021);
    await old.db.insertInto('bot_replies').values([row(SENT, 1, 'sent', 'Вже надіслано'), row(OWED, 1, 'sent', 'перша'), row(OWED, 2, 'pending', 'друга')]).execute();
    const store = await old.upgrade();
    expect(await store.appliedMigrations()).toContain('0021-kept-replies-without-rowid');
    if (name === 'SQLite') {
      const { rows } = await sql<{ sql: string }>`select sql from sqlite_master where name = 'bot_replies'`.execute(store.db);
      expect(rows[0]?.sql).toMatch(/without rowid/i);
    }
    expect(await old.indexes(store, 'bot_replies')).toContain('bot_replies_pending');

    const repo = new BotRepliesRepository(store);
    const owed = await repo.ofConversation(OWED);
    expect(owed.map((r) => [r.turn, r.state, r.done, r.attempts, r.locale, r.activityKey])).toEqual([
      [1, 'sent', 1, 0, 'uk', `${OWED}:a1`],
      [2, 'pending', 0, 2, 'uk', `${OWED}:a2`],
    ]);
    expect((owed[1]!.messages[0] as { paragraphs: string[] }).paragraphs).toEqual(['друга']);
    expect(await repo.owed(OWED, 3)).toMatchObject({ replies: true });
    expect(await repo.dueConversations({ workerId: 'worker-b', now: new Date('2026-03-01T11:00:00.000Z'), limit: 10 })).toEqual([OWED]);

    // The next turn of the conversation whose replies were sent keeps its own row and drops the old one.
    await store.commitTurn(
      turnCommit(SENT, 2, { replies: { state: 'answered', locale: 'uk', messages: [{ paragraphs: ['нова'] }] }, activityKey: `${SENT}:a2` }),
    );
    expect((await repo.ofConversation(SENT)).map((r) => [r.turn, r.state])).toEqual([[2, 'answered']]);
    expect(await repo.owed(SENT, 2)).toMatchObject({ replies: false });
  });
});
