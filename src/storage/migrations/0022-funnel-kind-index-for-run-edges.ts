/**
 * `funnel_events_kind_at (kind, at)` from 0004 replaced by the same index over the two kinds that
 * are read by kind: `started` (the report's runs begun in a window) and `outcome` (resolved and
 * confirmed counts, the handoff metric). Every turn wrote ~3 funnel rows into the old index, nine in
 * ten of them `turn`, `step_entered` or `answer` rows no query finds through it (those are read by
 * time, through `funnel_events_at`); they were ~2 KB of every stored conversation (issue 19: a
 * million conversations, 23 GB, outgrew the page cache) and an index write each on both dialects.
 *
 * Queries reach it with the kind written as a literal (`kind = 'started'`), so SQLite and a
 * PostgreSQL generic plan alike can tell the row is among those the index holds.
 */
import { sql } from 'kysely';
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db) {
    await sql`create index if not exists funnel_events_run_edges on funnel_events (kind, at) where kind = 'started' or kind = 'outcome'`.execute(db);
    await db.schema.dropIndex('funnel_events_kind_at').ifExists().execute();
  },
};
