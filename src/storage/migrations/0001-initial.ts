/** Conversations, their transcripts, processed activities, per-user languages and funnel events. */
import { sql } from 'kysely';
import type { StoreMigration } from './types';
import { autoId } from './helpers';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('conversations')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('flow_version', 'integer', (c) => c.notNull())
      .addColumn('snapshot', t.json, (c) => c.notNull())
      .addColumn('parents', t.json, (c) => c.notNull())
      .addColumn('locale', 'text', (c) => c.notNull())
      .addColumn('turn', 'integer', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('transcript_entries')
      .addColumn('id', t.bigId, (c) => autoId(c, t))
      .addColumn('conversation_key', 'text', (c) => c.notNull())
      .addColumn('at', t.timestamp, (c) => c.notNull())
      .addColumn('sender', 'text', (c) => c.notNull().check(sql`sender in ('user', 'bot')`))
      .addColumn('text', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('transcript_entries_conversation').on('transcript_entries').columns(['conversation_key', 'id']).execute();

    await db.schema
      .createTable('processed_activities')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('processed_activities_created_at').on('processed_activities').column('created_at').execute();

    await db.schema
      .createTable('user_locales')
      .addColumn('user_key', 'text', (c) => c.primaryKey())
      .addColumn('locale', 'text', (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('funnel_events')
      .addColumn('id', t.bigId, (c) => autoId(c, t))
      .addColumn('at', t.timestamp, (c) => c.notNull())
      .addColumn('conversation_key', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('locale', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('step', 'text', (c) => c.notNull())
      .addColumn('value', 'text')
      .execute();
    await db.schema.createIndex('funnel_events_at').on('funnel_events').column('at').execute();
  },
};
