/**
 * The hand-offs' outbox (`handoff_jobs`, migration 0017-handoffs): what follows from a change of a
 * hand-off (post the request card, show who took it, relay a message, tell the person) is written
 * with that change and done by ./worker.ts. Claims are leased (PostgreSQL `FOR UPDATE SKIP LOCKED`),
 * and only the oldest unfinished job of a hand-off can be claimed, so one hand-off's messages go out
 * in the order they were written, whatever instance does them.
 */
import { sql, type Generated, type Kysely } from 'kysely';
import { z } from 'zod';
import { fromJson, toIso, type Database, type Json, type Timestamp } from '../storage/schema';
import type { Store } from '../storage/store';

export type JobKind = 'post_request' | 'update_cards' | 'tell_taken' | 'tell_ended' | 'tell_expired' | 'relay_to_expert' | 'relay_to_person';

export interface NewJob {
  /** Unique: a job written twice (a repeated notification) is kept once. */
  id: string;
  handoffId: string;
  kind: JobKind;
  payload: Record<string, unknown>;
  at: string;
}

export interface Job extends NewJob {
  seq: number;
  attempts: number;
}

export interface HandoffJobsTable {
  seq: Generated<number | string>;
  id: string;
  handoff_id: string;
  kind: string;
  payload: Json;
  status: string;
  attempts: number;
  next_attempt_at: Timestamp;
  claimed_by: string | null;
  claimed_until: Timestamp | null;
  created_at: Timestamp;
}

export type HandoffJobsDatabase = { handoff_jobs: HandoffJobsTable };

/**
 * Writes jobs with `db` (a Kysely instance or the caller's transaction, whatever tables it was
 * widened with: Kysely's types do not relate a transaction to its wider instance); a job whose
 * id exists is skipped. Returns how many were added.
 */
export async function addJobs(db: object, jobs: readonly NewJob[]): Promise<number> {
  if (!jobs.length) return 0;
  const r = await (db as unknown as Kysely<HandoffJobsDatabase>)
    .insertInto('handoff_jobs')
    .values(
      jobs.map((j) => ({
        id: j.id,
        handoff_id: j.handoffId,
        kind: j.kind,
        payload: JSON.stringify(j.payload),
        status: 'pending',
        attempts: 0,
        next_attempt_at: j.at,
        claimed_by: null,
        claimed_until: null,
        created_at: j.at,
      })),
    )
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n);
}

const jobRow = z.object({
  seq: z.coerce.number(),
  id: z.string(),
  handoff_id: z.string(),
  kind: z.enum(['post_request', 'update_cards', 'tell_taken', 'tell_ended', 'tell_expired', 'relay_to_expert', 'relay_to_person']),
  payload: z.unknown(),
  attempts: z.coerce.number(),
  created_at: z.union([z.date(), z.string()]).transform(toIso),
});

function toJob(r: unknown): Job {
  const j = jobRow.parse(r);
  return { seq: j.seq, id: j.id, handoffId: j.handoff_id, kind: j.kind, payload: z.record(z.string(), z.unknown()).parse(fromJson(j.payload)), attempts: j.attempts, at: j.created_at };
}

export class HandoffJobsRepository {
  constructor(private readonly store: Pick<Store, 'kind' | 'db'>) {}

  private get db(): Kysely<Database & HandoffJobsDatabase> {
    return this.store.db.withTables<HandoffJobsDatabase>();
  }

  /** Claims due jobs held by no live claim, each the oldest unfinished one of its hand-off. */
  async claimDue(opts: { workerId: string; now: Date; leaseMs: number; limit: number }): Promise<Job[]> {
    const now = opts.now.toISOString();
    const rows = await this.db
      .updateTable('handoff_jobs')
      .set({ claimed_by: opts.workerId, claimed_until: new Date(opts.now.getTime() + opts.leaseMs).toISOString() })
      .where('seq', 'in', (eb) => {
        let due = eb
          .selectFrom('handoff_jobs as j')
          .select('j.seq')
          .where('j.status', '=', 'pending')
          .where('j.next_attempt_at', '<=', now)
          .where((w) => w.or([w('j.claimed_until', 'is', null), w('j.claimed_until', '<', now)]))
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('handoff_jobs as e').select(sql.lit(1).as('one')).whereRef('e.handoff_id', '=', 'j.handoff_id').where('e.status', '=', 'pending').whereRef('e.seq', '<', 'j.seq'))),
          )
          .orderBy('j.seq')
          .limit(opts.limit);
        if (this.store.kind === 'postgres') due = due.forUpdate().skipLocked();
        return due;
      })
      .returningAll()
      .execute();
    return rows.map(toJob).sort((a, b) => a.seq - b.seq);
  }

  /** Finishes a job (done, or failed for good), or puts it back for `retryAt`; only while `workerId` holds it. */
  async settle(seq: number, workerId: string, result: { status: 'done' | 'failed' } | { status: 'pending'; retryAt: Date }): Promise<boolean> {
    const r = await this.db
      .updateTable('handoff_jobs')
      .set((eb) => ({
        status: result.status,
        attempts: eb('attempts', '+', 1) as never,
        ...(result.status === 'pending' ? { next_attempt_at: result.retryAt.toISOString() } : {}),
        claimed_by: null,
        claimed_until: null,
      }))
      .where('seq', '=', seq)
      .where('claimed_by', '=', workerId)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async countPending(): Promise<number> {
    const r = await this.db.selectFrom('handoff_jobs').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
