/**
 * Web chat tokens that expire and rotate (issue 14): when each conversation's current secret was
 * issued, the secret a refresh replaced with how long it is still accepted, and which site token the
 * conversation started under. Conversations from before this migration count as issued now, so a page
 * open during the upgrade keeps working until its next refresh. And `card_key` on activities: the
 * card a press replaces is found by its key (src/channels/directline/activity-log.ts `cardKeyOf`),
 * not by reading the history. Cards stored before this have no key: pressing one answers as usual,
 * the card is just not swapped for its answered version.
 *
 * One column per statement: SQLite's ALTER TABLE adds one at a time.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema.alterTable('directline_conversations').addColumn('secret_issued_at', t.timestamp).execute();
    await db.schema.alterTable('directline_conversations').addColumn('previous_secret_hash', 'text').execute();
    await db.schema.alterTable('directline_conversations').addColumn('previous_secret_until', t.timestamp).execute();
    await db.schema.alterTable('directline_conversations').addColumn('site_key', 'text').execute();
    await db.updateTable('directline_conversations').set({ secret_issued_at: new Date().toISOString() }).execute();
    await db.schema.alterTable('directline_activities').addColumn('card_key', 'text').execute();
    await db.schema.createIndex('directline_activities_card').on('directline_activities').columns(['conversation_id', 'card_key']).execute();
  },
};
