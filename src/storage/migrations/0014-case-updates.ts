/**
 * What the support system says about a case after it arrived (issue 21): one row per status event
 * the case webhook posts to `POST /api/cases/events`. The event id is unique per backend, so a
 * repeated event is stored once; `told_at` with a claim and lease (as the case outbox has) makes the
 * person hear each update exactly once, whichever instance tells it. The case's current status is
 * its latest update. Written by src/cases/updates-repository.ts.
 */
import { sql } from 'kysely';
import { autoId } from './helpers';
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('case_updates')
      .addColumn('id', t.bigId, (c) => autoId(c, t))
      .addColumn('backend', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('reference', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('ticket_id', 'text')
      /** The engineer's note as written: shown to the person, never logged. */
      .addColumn('message', 'text')
      .addColumn('received_at', t.timestamp, (c) => c.notNull())
      .addColumn('told_at', t.timestamp)
      /** How the channel took it: sent, kept, unreachable. */
      .addColumn('told_result', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', t.timestamp)
      .addUniqueConstraint('case_updates_event', ['backend', 'event_id'])
      .execute();
    await db.schema.createIndex('case_updates_reference').on('case_updates').columns(['reference', 'received_at']).execute();
    await db.schema.createIndex('case_updates_untold').on('case_updates').column('received_at').where(sql.ref('told_at'), 'is', null).execute();
  },
};
