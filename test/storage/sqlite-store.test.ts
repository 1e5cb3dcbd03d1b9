import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { ConcurrentTurnError, DuplicateActivityError } from '../../src/storage/index';
import { storeContract } from './store-contract';
import { sqliteHarness, turnCommit, uniqueName } from './harness';

describe('SQLite store (temp file)', () => {
  storeContract(sqliteHarness);

  it('opens the file in WAL mode with a busy timeout and NORMAL synchronous writes', async () => {
    const harness = sqliteHarness();
    try {
      const store = await harness.open({ busyTimeoutMs: 4321 });
      const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('busy_timeout')).toBe(4321);
      expect(await pragma('synchronous')).toBe(1); // NORMAL
    } finally {
      await harness.cleanup();
    }
  });

  describe('group commit', () => {
    it('commits the turns of many conversations that arrive together in one transaction, each refused turn alone', async () => {
      const harness = sqliteHarness();
      try {
        const store = await harness.open();
        const keys = Array.from({ length: 20 }, (_, i) => `test:${uniqueName(`group-${i}`)}`);
        await Promise.all(keys.map((k) => store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:a1` }))));
        const before = { ...store.groupCommits! };

        // Together: 18 good next turns, one re-delivered activity and one outdated turn.
        const results = await Promise.allSettled(
          keys.map((k, i) =>
            store.commitTurn(
              i === 3 ? turnCommit(k, 2, { activityKey: `${k}:a1` }) : i === 7 ? turnCommit(k, 1, { activityKey: `${k}:b` }) : turnCommit(k, 2, { activityKey: `${k}:a2` }),
            ),
          ),
        );
        const after = store.groupCommits!;
        expect(after.batches - before.batches).toBe(1);
        expect(after.turns - before.turns).toBe(20);

        expect(results[3]).toMatchObject({ status: 'rejected', reason: expect.any(DuplicateActivityError) });
        expect(results[7]).toMatchObject({ status: 'rejected', reason: expect.any(ConcurrentTurnError) });
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(18);
        for (const [i, k] of keys.entries()) {
          const refused = i === 3 || i === 7;
          expect((await store.loadConversation(k))?.turn).toBe(refused ? 1 : 2);
          // A refused turn left none of its rows: no transcript entries, no processed mark.
          expect(await store.loadTranscript(k)).toHaveLength(refused ? 2 : 4);
          expect(await store.isProcessed(`${k}:b`)).toBe(false);
          expect(await store.isProcessed(`${k}:a2`)).toBe(!refused);
        }
      } finally {
        await harness.cleanup();
      }
    });

    it('keeps what a batch committed when the store is reopened', async () => {
      const harness = sqliteHarness();
      try {
        const store = await harness.open();
        const k = `test:${uniqueName('reopen')}`;
        await Promise.all([store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:1` })), store.commitTurn(turnCommit(`${k}-2`, 1))]);
        await store.close();
        await store.open();
        expect((await store.loadConversation(k))?.turn).toBe(1);
        expect(await store.isProcessed(`${k}:1`)).toBe(true);
        expect((await store.loadConversation(`${k}-2`))?.turn).toBe(1);
      } finally {
        await harness.cleanup();
      }
    });
  });
});
