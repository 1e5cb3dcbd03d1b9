/**
 * What the Bot Framework channel keeps per conversation beyond the engine's state: the conversation
 * reference a proactive message needs (`continueConversationAsync`), and replies that could not be
 * sent (connector down after its retries), shown first on the conversation's next turn. Written by
 * src/channels/botframework/conversations-repository.ts.
 */
import { autoId } from './helpers';
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('conversation_references')
      .addColumn('conversation_key', 'text', (c) => c.primaryKey())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('reference', t.json, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('undelivered_replies')
      .addColumn('id', t.bigId, (c) => autoId(c, t))
      .addColumn('conversation_key', 'text', (c) => c.notNull())
      .addColumn('activity', t.json, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('undelivered_replies_conversation').on('undelivered_replies').columns(['conversation_key', 'id']).execute();
  },
};
