/**
 * A turn's replies, kept with the turn until the channel has them (issue 15): one row per committed
 * turn of a Bot Framework conversation, written in the turn's own commit. `pending` rows are sent
 * after the commit and, when the process dies first or the connector is down, by a leased worker on
 * any instance; `sent` rows were accepted by the connector; `answered` rows went back in the HTTP
 * body (`expectReplies`) and are kept only so a re-delivery is answered the same. Done rows of
 * earlier turns are deleted by the next turn's commit, so a conversation keeps about one row.
 * Written by src/channels/botframework/replies-repository.ts.
 *
 * `messages` is JSON as text on both dialects: never queried inside, and jsonb would cost a parse on
 * the hot path. The partial index covers only what the worker looks for.
 */
import { sql } from 'kysely';
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('bot_replies')
      .addColumn('conversation_key', 'text', (c) => c.notNull())
      .addColumn('turn', 'integer', (c) => c.notNull())
      .addColumn('activity_key', 'text')
      .addColumn('locale', 'text', (c) => c.notNull())
      .addColumn('messages', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', t.timestamp)
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', t.timestamp)
      .addColumn('last_error', 'text')
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addPrimaryKeyConstraint('bot_replies_pk', ['conversation_key', 'turn'])
      .execute();
    await db.schema.createIndex('bot_replies_pending').on('bot_replies').column('next_attempt_at').where(sql.ref('state'), '=', 'pending').execute();
  },
};
