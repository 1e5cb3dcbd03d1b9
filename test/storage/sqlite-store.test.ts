import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { storeContract } from './store-contract';
import { sqliteHarness } from './harness';

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
});
