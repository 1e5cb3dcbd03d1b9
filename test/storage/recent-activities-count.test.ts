/**
 * Issue 15, item 6: the re-delivery memory of a conversation is a count of activities (the latest
 * 20), whatever the length of their ids. Bot Framework allows activity ids of 512 characters
 * (src/channels/botframework/activity.ts); with them, a re-delivery of any of the latest 20 is still
 * refused. Both databases keep the same list: SQLite computes it in the process, PostgreSQL in the
 * commit statement (src/storage/turn-sql.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateActivityError, type SqlStore } from '../../src/storage/index';
import { RECENT_ACTIVITIES_MAX, withRecentActivity } from '../../src/storage/turn-sql';
import { postgresHarness, sqliteHarness, turnCommit, type StoreHarness } from './harness';
import { uniqueName } from '../support';

/** An activity key as the engine builds it (`channel:activityId`) with a 512-character id. */
const longKey = (n: number) => `msteams:${String(n).padStart(4, '0')}${'é'.repeat(508)}`;

describe.each([
  ['SQLite', sqliteHarness],
  ['PostgreSQL', postgresHarness],
] as const)('re-delivery memory by count on %s', (_name, makeHarness) => {
  let harness: StoreHarness;
  let store: SqlStore;

  beforeAll(async () => {
    harness = makeHarness();
    store = await harness.open();
  });
  afterAll(() => harness.cleanup());

  const recentOf = async (k: string) =>
    (await store.db.selectFrom('conversations').select('recent_activities').where('key', '=', k).executeTakeFirstOrThrow()).recent_activities;

  it('refuses a re-delivery of any of the latest 20 activities with 512-character ids, and forgets the older ones', async () => {
    const k = `msteams:${uniqueName('conv')}`;
    const turns = 25;
    for (let n = 1; n <= turns; n++) await store.commitTurn(turnCommit(k, n, { activityKey: longKey(n) }));

    const latest = Array.from({ length: RECENT_ACTIVITIES_MAX }, (_, i) => turns - i);
    for (const n of latest) {
      expect(await store.isProcessed(k, longKey(n)), `activity ${n}`).toBe(true);
      expect((await store.loadTurn({ conversationKey: k, userKey: `${k}:u`, activityKey: longKey(n) })).processed).toBe(true);
    }
    // The oldest of them, 20 activities back, is refused at commit as well (another instance's re-delivery).
    await expect(store.commitTurn(turnCommit(k, turns + 1, { activityKey: longKey(turns - RECENT_ACTIVITIES_MAX + 1) }))).rejects.toBeInstanceOf(
      DuplicateActivityError,
    );
    for (let n = 1; n <= turns - RECENT_ACTIVITIES_MAX; n++) expect(await store.isProcessed(k, longKey(n)), `activity ${n}`).toBe(false);
    expect((await store.loadConversation(k))?.turn).toBe(turns);

    // Twenty lines of fixed length: the row does not grow with the ids.
    const lines = (await recentOf(k)).split('\n');
    expect(lines).toHaveLength(RECENT_ACTIVITIES_MAX);
    for (const line of lines) expect(line).toMatch(/^#[\w-]{22}$/);
  });

  it('keeps short ids as they are, and a turn without an activity keeps the list', async () => {
    const k = `emulator:${uniqueName('conv')}`;
    for (let n = 1; n <= 22; n++) await store.commitTurn(turnCommit(k, n, { activityKey: `emulator:activity-${n}` }));
    await store.commitTurn(turnCommit(k, 23));
    expect((await recentOf(k)).split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `emulator:activity-${i + 3}`));
  });

  it('cuts a longer list an older release wrote to the latest 20 at the next turn, as the other database does', async () => {
    const k = `msteams:${uniqueName('conv')}`;
    await store.commitTurn(turnCommit(k, 1, { activityKey: 'msteams:old-0' }));
    const older = Array.from({ length: 30 }, (_, i) => `msteams:old-${i}`).join('\n');
    await store.db.updateTable('conversations').set({ recent_activities: older }).where('key', '=', k).execute();
    await store.commitTurn(turnCommit(k, 2, { activityKey: 'msteams:new' }));
    const stored = await recentOf(k);
    expect(stored).toBe(withRecentActivity(older, 'msteams:new'));
    expect(stored.split('\n')).toEqual([...Array.from({ length: 19 }, (_, i) => `msteams:old-${i + 11}`), 'msteams:new']);
  });

  it('still recognises a long id an older release recorded as it was', async () => {
    const k = `webex:${uniqueName('room')}`;
    const webexKey = `webex:Y2lzY29zcGFyazovL3VzL01FU1NBR0UvOTJkYjNiZTAtNDNiZC0xMWU2LThhZTktZGQ1YjNkZmM1NjVk`;
    await store.commitTurn(turnCommit(k, 1));
    await store.db.updateTable('conversations').set({ recent_activities: `webex:other\n${webexKey}` }).where('key', '=', k).execute();
    expect(await store.isProcessed(k, webexKey)).toBe(true);
    expect((await store.loadTurn({ conversationKey: k, userKey: `${k}:u`, activityKey: webexKey })).processed).toBe(true);
  });
});
