/**
 * Follow-ups and satisfaction (issue 23). `followups`: one durable timer per "check back with me
 * tomorrow" a person accepted, written in that turn and fired once by a leased worker (claim, lease,
 * status); `data` holds what the guide knew for a case (personal data), cleared as soon as the
 * follow-up is fired, cancelled or dropped. `satisfaction`: one row per 👍/👎 at an ending, without
 * names, emails or user ids; the comment is stored with them masked. Written by src/followups/.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('followups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_key', 'text', (c) => c.notNull())
      /** The ending whose promise it checks: changeConfirmed, forwardToOwner, adminPortal. */
      .addColumn('ending', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('hours', 'real', (c) => c.notNull())
      /** pending, fired, cancelled, dropped (the conversation could not be reached: deleted, or no channel). */
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('due_at', t.timestamp, (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', t.timestamp)
      /** `{ intake }`: what the guide knew, for a case if the email never came. Null once settled. */
      .addColumn('data', t.json)
      /** The answer to "did the email arrive?": arrived, not_arrived. */
      .addColumn('answer', 'text')
      /** Why it was cancelled: wrote (a new message), stopped ("stop reminders"). */
      .addColumn('cancel_reason', 'text')
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .addColumn('settled_at', t.timestamp)
      .execute();
    await db.schema.createIndex('followups_due').on('followups').columns(['status', 'due_at']).execute();
    await db.schema.createIndex('followups_conversation').on('followups').columns(['conversation_key', 'status']).execute();

    await db.schema
      .createTable('satisfaction')
      .addColumn('id', 'text', (c) => c.primaryKey())
      /** The ending rated: its flow, step and outcome. */
      .addColumn('flow', 'text', (c) => c.notNull())
      .addColumn('ending', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('locale', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      /** up, down. */
      .addColumn('rating', 'text', (c) => c.notNull())
      .addColumn('comment', 'text')
      .addColumn('at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('satisfaction_at').on('satisfaction').columns(['at']).execute();
  },
};
