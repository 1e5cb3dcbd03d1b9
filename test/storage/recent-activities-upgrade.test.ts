/**
 * Migration 0009 moves re-delivery marks into the conversation row. A store holding conversations
 * from before it (schema of 0008) is upgraded at open: its conversations go on turn by turn, a
 * re-delivered activity of a turn after the upgrade is refused, and the old marks table is still
 * there for instances of the previous release during a rolling upgrade.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DuplicateActivityError } from '../../src/storage/errors';
import { turnCommit } from './harness';
import { upgradeDialects } from './store-at-migration';

const BEFORE_0009 = '0008-funnel-events-without-conversation-index';
const KEY = 'msteams:upgraded-conversation';

describe.each(upgradeDialects)('upgrading stored conversations to recent activities over $name', ({ at }) => {
  it('goes on with a conversation stored before 0009 and refuses a re-delivery after it', async () => {
    const old = await at(BEFORE_0009);
    const c = turnCommit(KEY, 3).conversation;
    await old.db
      .insertInto('conversations')
      .values({
        key: c.key,
        channel: c.channel,
        flow_id: c.flowId,
        flow_version: c.flowVersion,
        snapshot: JSON.stringify(c.snapshot),
        parents: JSON.stringify(c.parents),
        locale: c.locale,
        turn: 3,
        user_id: c.userId,
        created_at: c.createdAt,
        updated_at: c.updatedAt,
      })
      .execute();
    // A mark of today (the store prunes marks older than 7 days at open).
    await old.db.insertInto('processed_activities').values({ key: `${KEY}:a3`, created_at: new Date().toISOString() }).execute();
    const store = await old.upgrade();
    expect(await store.appliedMigrations()).toContain('0009-recent-activities-in-conversations');
    const loaded = await store.loadTurn({ conversationKey: KEY, userKey: 'msteams:someone', activityKey: `${KEY}:a4` });
    expect(loaded.processed).toBe(false);
    expect(loaded.conversation?.turn).toBe(3);

    await store.commitTurn(turnCommit(KEY, 4, { activityKey: `${KEY}:a4` }));
    expect(await store.isProcessed(KEY, `${KEY}:a4`)).toBe(true);
    await expect(store.commitTurn(turnCommit(KEY, 5, { activityKey: `${KEY}:a4` }))).rejects.toBeInstanceOf(DuplicateActivityError);
    expect((await store.loadConversation(KEY))?.turn).toBe(4);
    // The old table stays for instances of the previous release; the store only prunes it.
    const marks = await sql<{ key: string }>`select key from processed_activities`.execute(store.db);
    expect(marks.rows.map((r) => r.key)).toEqual([`${KEY}:a3`]);
  });
});
