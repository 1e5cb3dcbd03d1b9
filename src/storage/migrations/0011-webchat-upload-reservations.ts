/**
 * Room reserved by web chat uploads (issue 14): one row per accepted upload, with its file count and
 * bytes, written before its files are, in the same transaction as the check against the conversation's
 * limits (src/channels/directline/upload-quota.ts). Rows older than the upload window count for nothing and are
 * pruned. Files uploaded before this migration are not counted.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('webchat_upload_reservations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('files', 'integer', (c) => c.notNull())
      .addColumn('bytes', t.dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('webchat_upload_reservations_conversation')
      .on('webchat_upload_reservations')
      .columns(['conversation_id', 'created_at'])
      .execute();
    await db.schema.createIndex('webchat_upload_reservations_created').on('webchat_upload_reservations').column('created_at').execute();
  },
};
