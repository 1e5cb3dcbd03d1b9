/**
 * The Webex channel's durable inbox (a notification is written here before Webex gets its 2xx, so a
 * crash cannot lose it; claimed with a lease, handled once) and each space's live card (the one
 * message whose buttons still act, retired when the conversation moves on). Used by
 * src/channels/webex/inbox-repository.ts.
 */
import type { StoreMigration } from './types';
import { autoId } from './helpers';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('webex_inbox')
      /** Arrival order: notifications of one space are handled in it. */
      .addColumn('seq', t.bigId, (c) => autoId(c, t))
      /** The notification's `data.id` (message, attachment action or membership id): a re-delivery is one row. */
      .addColumn('notification_id', 'text', (c) => c.notNull().unique())
      .addColumn('room_id', 'text')
      .addColumn('resource', 'text', (c) => c.notNull())
      /** The verified notification as received (ids only: Webex sends no message text in it). */
      .addColumn('notification', t.json, (c) => c.notNull())
      /** pending -> turned (the turn committed, in its transaction) -> handled (replies sent); or failed. */
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', t.timestamp)
      .addColumn('last_error', 'text')
      .addColumn('received_at', t.timestamp, (c) => c.notNull())
      .addColumn('handled_at', t.timestamp)
      .execute();
    await db.schema.createIndex('webex_inbox_open').on('webex_inbox').columns(['status', 'seq']).execute();
    await db.schema.createIndex('webex_inbox_handled_at').on('webex_inbox').column('handled_at').execute();

    await db.schema
      .createTable('webex_live_cards')
      .addColumn('room_id', 'text', (c) => c.primaryKey())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('step', 'text')
      .addColumn('posted_at', t.timestamp, (c) => c.notNull())
      .execute();
  },
};
