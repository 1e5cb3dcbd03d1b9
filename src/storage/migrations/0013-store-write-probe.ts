/**
 * One row the readiness check (`GET /readyz`, ../write-probe.ts) rewrites to learn whether the store
 * accepts writes (issue 15, item 4): a read-only file, a full disk, a database gone or read-only
 * after a failover all refuse it. Every instance rewrites the same row; it holds no data.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('store_write_probe')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('probed_at', t.timestamp, (c) => c.notNull())
      .execute();
  },
};
