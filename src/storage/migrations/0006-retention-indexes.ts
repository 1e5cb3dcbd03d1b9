/**
 * Indexes for the retention job (src/retention/): idle conversations are found by their last turn,
 * web chat conversations by when they started, per-person languages by when they were last set.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db) {
    await db.schema.createIndex('conversations_updated_at').on('conversations').column('updated_at').execute();
    await db.schema.createIndex('directline_conversations_created_at').on('directline_conversations').column('created_at').execute();
    await db.schema.createIndex('user_locales_updated_at').on('user_locales').column('updated_at').execute();
  },
};
