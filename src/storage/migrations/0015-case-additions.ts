/**
 * What a person adds to their open case from the chat (issue 21): one row per addition, written in
 * the turn that took it and pushed to the case backend by a leased worker (the case outbox's
 * columns: status, attempts, next attempt, claim). The content (text, file links) is personal data:
 * it goes to the support system, never to logs. Written by src/cases/additions-repository.ts.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('case_additions')
      /** The addition id: receivers de-duplicate a repeated push by it. */
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('reference', 'text', (c) => c.notNull())
      .addColumn('conversation_key', 'text', (c) => c.notNull())
      /** `${channel}:${userId}` of who added it (the case's opener or an agent). */
      .addColumn('added_by', 'text', (c) => c.notNull())
      .addColumn('backend', 'text', (c) => c.notNull())
      /** pending, delivered, failed. */
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', t.timestamp)
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', t.timestamp)
      .addColumn('last_error', 'text')
      /** `{ text, attachments }`. */
      .addColumn('content', t.json, (c) => c.notNull())
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('delivered_at', t.timestamp)
      .execute();
    await db.schema.createIndex('case_additions_due').on('case_additions').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('case_additions_reference').on('case_additions').columns(['reference', 'created_at']).execute();
  },
};
