/** Support cases with their outbox columns (delivery state lives on the case row), and the reference counter. */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('case_counters')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull())
      .execute();
    await db.insertInto('case_counters').values({ name: 'case', value: 0 }).execute();

    await db.schema
      .createTable('cases')
      .addColumn('reference', 'text', (c) => c.primaryKey())
      .addColumn('conversation_key', 'text', (c) => c.notNull())
      /** Same conversation, same confirmed content: one case (a double press, a re-sent activity). */
      .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
      .addColumn('opened_by', 'text', (c) => c.notNull())
      .addColumn('backend', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', t.timestamp)
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', t.timestamp)
      .addColumn('last_error', 'text')
      .addColumn('external_id', 'text')
      .addColumn('delivered_at', t.timestamp)
      .addColumn('record', t.json, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('updated_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('cases_due').on('cases').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('cases_conversation').on('cases').column('conversation_key').execute();
  },
};
