import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { storeContract } from './store-contract';
import { sqliteHarness, turnCommit } from './harness';
import { uniqueName } from '../support';

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
    it('keeps what a batch committed when the store is reopened', async () => {
      const harness = sqliteHarness();
      try {
        const store = await harness.open();
        const k = `test:${uniqueName('reopen')}`;
        await Promise.all([store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:1` })), store.commitTurn(turnCommit(`${k}-2`, 1))]);
        await store.close();
        await store.open();
        expect((await store.loadConversation(k))?.turn).toBe(1);
        expect(await store.isProcessed(k, `${k}:1`)).toBe(true);
        expect((await store.loadConversation(`${k}-2`))?.turn).toBe(1);
      } finally {
        await harness.cleanup();
      }
    });
  });
});
