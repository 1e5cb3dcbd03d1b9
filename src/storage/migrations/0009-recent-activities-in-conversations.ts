/**
 * Re-delivery marks move into the conversation row: `conversations.recent_activities` holds the keys
 * of the conversation's latest activities (newest last, one per line, bounded; ../turn-sql.ts). A
 * turn rewrites its conversation row anyway, so recording its activity there costs no page of its
 * own, where `processed_activities` took an insert at a random place in its key index every turn
 * (README "Performance").
 *
 * `processed_activities` stays for now: instances still running the code before this migration (a
 * rolling upgrade) keep writing and reading it, and the store's hourly pruning empties it within its
 * retention. A later migration drops it.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db) {
    await db.schema
      .alterTable('conversations')
      .addColumn('recent_activities', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
  },
};
