/**
 * Indexes for `npm run report` (src/funnel/query.ts): runs started in a window are found by kind and
 * time, and each conversation's events are read in recorded order.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db) {
    await db.schema.createIndex('funnel_events_kind_at').on('funnel_events').columns(['kind', 'at']).execute();
    await db.schema.createIndex('funnel_events_conversation').on('funnel_events').columns(['conversation_key', 'id']).execute();
  },
};
