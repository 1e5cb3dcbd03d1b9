/**
 * SQLite read-ahead (src/storage/sqlite-warmer.ts): before a turn of a conversation the engine does
 * not hold live, a worker thread with its own read-only connection runs the store's and the batch
 * writers' lookups for that conversation, so a page no longer in memory is waited for there, not on
 * the event loop. It never fails or changes a turn: what the turn loads is what is stored.
 */
import { describe, expect, it } from 'vitest';
import { SqliteWarmer } from '../../src/storage/sqlite-warmer';
import type { BatchTurnWriter } from '../../src/storage/turn-writers';
import { captureLogs, silentLogger, tempDir } from '../support';
import { memoryStore, sqliteHarness, turnCommit } from './harness';

const KEY = 'msteams:warm-1';
const USER = 'msteams:user-1';

/** A batch writer with nothing to write, only a read-ahead lookup. */
const lookupWriter = (name: string, sqliteWarm: string): BatchTurnWriter => ({
  name,
  mode: 'batch',
  sqlite: () => () => undefined,
  sqliteWarm,
  pg: { params: 0, ctes: () => '', values: () => [] },
});

describe('SQLite read-ahead of a returning conversation', () => {
  it('runs the lookups of the conversation and its user on the worker before the load, and the load returns what is stored', async () => {
    const harness = sqliteHarness();
    try {
      const first = await harness.open({ checkpointIntervalMs: 0 });
      await first.commitTurn({ ...turnCommit(KEY, 1), userLocale: { userKey: USER, locale: 'uk' } });
      await first.commitTurn(turnCommit(KEY, 2));
      await first.close();

      // A restart: nothing is live, every turn's conversation is read ahead.
      const store = await harness.open({ checkpointIntervalMs: 0 });
      await store.readAhead!.ready();
      const loaded = await store.loadTurn({ conversationKey: KEY, userKey: USER, activityKey: 'a-3' });
      expect(loaded.conversation?.turn).toBe(2);
      expect(loaded.userLocale).toBe('uk');
      // Found: the conversation's row, the user's language and the conversation's last transcript entry.
      expect(store.readAhead?.stats).toMatchObject({ asked: 1, warmed: 1, found: 3, overdue: 0, recent: 0 });

      // A conversation never stored: asked and answered, nothing found, nothing loaded.
      const fresh = await store.loadTurn({ conversationKey: 'msteams:warm-new', userKey: 'msteams:user-new' });
      expect(fresh.conversation).toBeUndefined();
      expect(store.readAhead?.stats).toMatchObject({ asked: 2, warmed: 2, found: 3, overdue: 0, recent: 0 });
    } finally {
      await harness.cleanup();
    }
  });

  it('skips a conversation the engine holds live at the stored turn', async () => {
    const harness = sqliteHarness();
    try {
      const store = await harness.open({ checkpointIntervalMs: 0 });
      await store.commitTurn(turnCommit(KEY, 1));
      const loaded = await store.loadTurn({ conversationKey: KEY, userKey: USER, knownTurn: 1 });
      expect(loaded.unchanged).toBe(true);
      expect(store.readAhead?.stats).toMatchObject({ asked: 0, warmed: 0, found: 0, overdue: 0, recent: 0 });
    } finally {
      await harness.cleanup();
    }
  });

  it('adds the lookups of a batch writer registered after the store opened, and skips one that does not prepare', async () => {
    const harness = sqliteHarness();
    const logs = captureLogs('warn');
    try {
      const store = await harness.open({ checkpointIntervalMs: 0 });
      await store.readAhead!.ready();
      await store.commitTurn(turnCommit(KEY, 1));
      store.registerTurnWriter(lookupWriter('warm_count', 'select count(*) from transcript_entries where conversation_key = @key'));
      await store.loadTurn({ conversationKey: KEY, userKey: USER });
      // The row, the last transcript entry, and the writer's count of two entries (no language stored).
      expect(store.readAhead!.stats.found).toBe(3);
      await store.close();

      // On the same file, with a logger the test reads.
      const own = new SqliteWarmer(harness.path, ['select count(*) from no_such_table where k = @key', 'select turn from conversations where key = @key'], logs.logger);
      await own.ready();
      try {
        await own.warm({ key: KEY, user: USER });
        expect(own.stats).toMatchObject({ asked: 1, warmed: 1, found: 1, overdue: 0, recent: 0 });
        expect(logs.lines.map((l) => l.msg)).toContain('SQLite read-ahead: a statement could not be prepared; it is skipped');
      } finally {
        await own.stop();
      }
    } finally {
      await harness.cleanup();
    }
  });

  it('lets turns go on when the worker cannot read the file, and says so once', async () => {
    const dir = tempDir('warm-missing-');
    const logs = captureLogs('warn');
    try {
      const warmer = new SqliteWarmer(dir.join('missing.sqlite'), ['select 1'], logs.logger);
      // Asked before the worker failed, released when it did; asked after, answered at once.
      await warmer.warm({ key: KEY, user: USER });
      await warmer.warm({ key: KEY, user: USER });
      expect(warmer.stats.warmed).toBe(0);
      expect(logs.lines.filter((l) => l.msg === 'SQLite read-ahead worker stopped; turns read the store themselves')).toHaveLength(1);
      await warmer.stop();
    } finally {
      dir.remove();
    }
  });

  it('stops holding a turn whose warm-up the worker has not answered in time', async () => {
    const harness = sqliteHarness();
    try {
      const store = await harness.open({ checkpointIntervalMs: 0 });
      await store.commitTurn(turnCommit(KEY, 1));
      // A lookup that runs for about a second here (a plan that became a scan, a disk that stalls).
      const slow = 'with recursive n(x) as (select 1 union all select x + 1 from n where x < 5000000) select count(*) from n';
      const warmer = new SqliteWarmer(harness.path, [slow], silentLogger, { maxWaitMs: 50 });
      await warmer.ready();
      try {
        await Promise.all([warmer.warm({ key: KEY, user: USER }), warmer.warm({ key: `${KEY}-2`, user: USER })]);
        // Released while the worker was still on the first lookup.
        expect(warmer.stats).toMatchObject({ asked: 2, warmed: 0, overdue: 2 });
      } finally {
        await warmer.stop();
      }
    } finally {
      await harness.cleanup();
    }
  });

  it('warms on several readers, so one slow warm-up does not hold up the next, and skips a warm-up whose turn stopped waiting', async () => {
    const harness = sqliteHarness();
    try {
      const store = await harness.open({ checkpointIntervalMs: 0 });
      await store.commitTurn(turnCommit(KEY, 1));
      await store.close();
      // About a second for the key 'slow' (a disk that stalls on its pages), at once for any other.
      const lookup = `select case when @key = 'slow' then (with recursive n(x) as (select 1 union all select x + 1 from n where x < 5000000) select count(*) from n) else (select turn from conversations where key = @key) end`;
      const two = new SqliteWarmer(harness.path, [lookup], silentLogger, { readers: 2, maxWaitMs: 10_000 });
      await two.ready();
      try {
        const order: string[] = [];
        const slow = two.warm({ key: 'slow', user: USER }).then(() => order.push('slow'));
        await new Promise((r) => setImmediate(r));
        await two.warm({ key: KEY, user: USER }).then(() => order.push(KEY));
        await slow;
        // The second went to the idle reader and was answered while the first was still reading.
        expect(order).toEqual([KEY, 'slow']);
        expect(two.stats).toMatchObject({ asked: 2, warmed: 2, overdue: 0 });
      } finally {
        await two.stop();
      }

      const one = new SqliteWarmer(harness.path, [lookup], silentLogger, { readers: 1, maxWaitMs: 50 });
      await one.ready();
      try {
        const first = one.warm({ key: 'slow', user: USER });
        await new Promise((r) => setImmediate(r));
        await Promise.all([first, one.warm({ key: KEY, user: USER })]);
        expect(one.stats).toMatchObject({ asked: 2, warmed: 0, overdue: 2 });
      } finally {
        // Stopping lets the reader finish its queue first: the slow one ran, the other was skipped.
        await one.stop();
      }
      expect(one.stats).toMatchObject({ asked: 2, warmed: 1, overdue: 2 });
    } finally {
      await harness.cleanup();
    }
  });

  it('ends every wait when the read-ahead stops, and answers later ones at once', async () => {
    const harness = sqliteHarness();
    try {
      const store = await harness.open({ checkpointIntervalMs: 0 });
      await store.commitTurn(turnCommit(KEY, 1));
      const warmer = new SqliteWarmer(harness.path, ['select turn from conversations where key = @key'], silentLogger);
      await warmer.ready();
      const waits = Array.from({ length: 50 }, (_, n) => warmer.warm({ key: `${KEY}-${n}`, user: USER }));
      await warmer.stop();
      // Every wait ends, answered or released, with the worker gone.
      await Promise.all(waits);
      await warmer.warm({ key: KEY, user: USER });
      expect(warmer.stats.asked).toBe(50);
    } finally {
      await harness.cleanup();
    }
  });

  it('does not read ahead a conversation read within the last minute, live or warmed, and does again once it is older', async () => {
    const harness = sqliteHarness();
    try {
      const store = await harness.open({ checkpointIntervalMs: 0 });
      await store.readAhead!.ready();
      await store.commitTurn(turnCommit(KEY, 1));
      await store.commitTurn(turnCommit(`${KEY}-live`, 1));
      // Warmed once; its next turn (the engine no longer holds it live) reads without a hand-off.
      await store.loadTurn({ conversationKey: KEY, userKey: USER });
      const again = await store.loadTurn({ conversationKey: KEY, userKey: USER, activityKey: 'a-2' });
      expect(again.conversation?.turn).toBe(1);
      // A conversation the engine held live, then evicted: read a moment ago, not warmed either.
      await store.loadTurn({ conversationKey: `${KEY}-live`, userKey: USER, knownTurn: 1 });
      await store.loadTurn({ conversationKey: `${KEY}-live`, userKey: USER });
      expect(store.readAhead?.stats).toMatchObject({ asked: 1, warmed: 1, recent: 2 });
      await store.close();

      // Older than the window: read ahead again.
      let now = 1_000;
      const warmer = new SqliteWarmer(harness.path, ['select turn from conversations where key = @key'], silentLogger, { recentMs: 60_000, now: () => now });
      await warmer.ready();
      try {
        await warmer.warm({ key: KEY, user: USER });
        now += 59_000;
        await warmer.warm({ key: KEY, user: USER });
        expect(warmer.stats).toMatchObject({ asked: 1, recent: 1 });
        now += 61_000;
        await warmer.warm({ key: KEY, user: USER });
        expect(warmer.stats).toMatchObject({ asked: 2, warmed: 2, found: 2, recent: 1 });
      } finally {
        await warmer.stop();
      }
    } finally {
      await harness.cleanup();
    }
  });

  it('is off for a store in memory and when switched off', async () => {
    const harness = sqliteHarness();
    try {
      const store = await harness.open({ warmReads: false });
      await store.commitTurn(turnCommit(KEY, 1));
      expect((await store.loadTurn({ conversationKey: KEY, userKey: USER })).conversation?.turn).toBe(1);
      expect(store.readAhead).toBeUndefined();
      const inMemory = await memoryStore();
      await inMemory.commitTurn(turnCommit(KEY, 1));
      expect((await inMemory.loadTurn({ conversationKey: KEY, userKey: USER })).conversation?.turn).toBe(1);
      expect(inMemory.readAhead).toBeUndefined();
    } finally {
      await harness.cleanup();
    }
  });
});
