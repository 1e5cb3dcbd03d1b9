import { statSync } from 'node:fs';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { sqliteHarness, turnCommit } from './harness';
import { uniqueName } from '../support';

const pragma = async (db: Parameters<ReturnType<typeof sql.raw>['execute']>[0], name: string) =>
  Object.values((await sql.raw(`pragma ${name}`).execute(db)).rows[0] as object)[0];

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('SQLite WAL checkpoints in a worker thread', () => {
  it('copies committed turns back into the database file from the worker, with the on-commit checkpoint only as a safety net', async () => {
    const harness = sqliteHarness();
    try {
      const store = await harness.open({ checkpointIntervalMs: 20 });
      expect(await pragma(store.db, 'wal_autocheckpoint')).toBe(10_000);
      const dbFile = (await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(store.db)).rows[0]!.file;
      const sizeBefore = statSync(dbFile).size;
      const k = `test:${uniqueName('ckpt')}`;
      for (let turn = 1; turn <= 200; turn++) {
        await store.commitTurn({ ...turnCommit(k, turn), transcript: [{ at: new Date().toISOString(), from: 'bot', text: 'x'.repeat(2000) }] });
      }
      // SQLite alone would not checkpoint yet (10 000 pages): the database file grows only through the worker.
      await until(() => (store.checkpoints?.lastCheckpointed ?? 0) > 0 && statSync(dbFile).size > sizeBefore + 200 * 2000);
      expect(store.checkpoints!.runs).toBeGreaterThan(0);
      expect((await store.loadTranscript(k)).length).toBe(200);
      await store.close();
    } finally {
      await harness.cleanup();
    }
  });

  it('can be switched off: SQLite checkpoints on commit as before', async () => {
    const harness = sqliteHarness();
    try {
      const store = await harness.open({ checkpointIntervalMs: 0 });
      expect(store.checkpoints).toBeUndefined();
      expect(await pragma(store.db, 'wal_autocheckpoint')).toBe(1000);
    } finally {
      await harness.cleanup();
    }
  });
});
