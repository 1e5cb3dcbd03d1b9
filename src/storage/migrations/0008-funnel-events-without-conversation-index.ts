/**
 * Drops `funnel_events_conversation (conversation_key, id)` from 0004: every turn inserted ~3 rows
 * into it at random positions (most of what a turn's funnel rows cost to write), for one offline
 * reader. `npm run report` (src/funnel/query.ts) now reads the window's events by time through
 * `funnel_events_at`, which new rows append to.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db) {
    await db.schema.dropIndex('funnel_events_conversation').ifExists().execute();
  },
};
