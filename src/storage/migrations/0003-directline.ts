/**
 * The web chat's Direct Line conversations (who may read them: a hash of each one's secret) and the
 * ordered activity stream a browser polls with a watermark (`seq`). Written by
 * src/channels/directline/sql-activity-log.ts.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('directline_conversations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('locale', 'text')
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('directline_activities')
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('directline_conversations.id').onDelete('cascade'))
      /** The watermark: 1, 2, 3… per conversation, without gaps, in the order activities became visible. */
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('client_activity_id', 'text')
      .addColumn('activity', t.json, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addPrimaryKeyConstraint('directline_activities_pk', ['conversation_id', 'seq'])
      .execute();
    await db.schema
      .createIndex('directline_activities_client')
      .on('directline_activities')
      .columns(['conversation_id', 'client_activity_id'])
      .execute();
  },
};
