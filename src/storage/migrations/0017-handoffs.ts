/**
 * Live hand-offs to a support engineer (issue 22): one row per request in `handoffs`, whose status
 * moves waiting → taken → ended (or expired, cancelled) only by conditional UPDATEs, so the first
 * engineer to press "Take it" gets it exactly once across instances; and `handoff_jobs`, the
 * hand-off's outbox (post the request card, relay a message, tell the person), written in the same
 * transaction as the change that causes it and done by a leased worker, in order per hand-off.
 * Written by src/handoff/repository.ts and src/handoff/jobs-repository.ts. The case data and the
 * relayed words are personal data: stored, sent where they belong, never logged.
 */
import { autoId } from './helpers';
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('handoffs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_key', 'text', (c) => c.notNull())
      /** waiting, taken, ended, expired, cancelled. */
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('locale', 'text', (c) => c.notNull())
      /** What the bot knows (`CaseIntakeInput`), for the card and for a case if it comes to that. */
      .addColumn('case_input', t.json, (c) => c.notNull())
      .addColumn('requested_at', t.timestamp, (c) => c.notNull())
      /** Nobody took it by then: the worker expires it and offers a case. */
      .addColumn('wait_until', t.timestamp, (c) => c.notNull())
      /** Where the request was posted, per expert space (`{ webex?: {...}, teams?: {...} }`). */
      .addColumn('cards', t.json, (c) => c.notNull())
      /** `${channel}:${id}` and the display name of the engineer who took it; where they talk. */
      .addColumn('taken_by', 'text')
      .addColumn('taken_by_name', 'text')
      .addColumn('taken_in', 'text')
      .addColumn('taken_at', t.timestamp)
      .addColumn('ended_at', t.timestamp)
      /** person or expert. */
      .addColumn('ended_by', 'text')
      .execute();
    await db.schema.createIndex('handoffs_conversation').on('handoffs').columns(['conversation_key', 'status']).execute();
    await db.schema.createIndex('handoffs_waiting').on('handoffs').columns(['status', 'wait_until']).execute();

    await db.schema
      .createTable('handoff_jobs')
      /** Also the order of a hand-off's jobs: a job waits while an earlier one of its hand-off is pending. */
      .addColumn('seq', t.bigId, (c) => autoId(c, t))
      /** A caller's id for the job (a relayed message's notification id): the same job twice is kept once. */
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('handoff_id', 'text', (c) => c.notNull())
      /** post_request, update_cards, tell_taken, tell_ended, tell_expired, relay_to_expert, relay_to_person. */
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', t.json, (c) => c.notNull())
      /** pending, done, failed. */
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', t.timestamp, (c) => c.notNull())
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', t.timestamp)
      .addColumn('created_at', t.timestamp, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('handoff_jobs_due').on('handoff_jobs').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('handoff_jobs_handoff').on('handoff_jobs').columns(['handoff_id', 'status', 'seq']).execute();
  },
};
