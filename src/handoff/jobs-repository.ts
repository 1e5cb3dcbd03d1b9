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
import { LeasedClaims, type LeasedTable } from '../storage/leased-claims';
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

/**
 * The jobs' leases: a pending job is due from its next attempt once no earlier job of its hand-off
 * is pending, so one hand-off's jobs are done in order; each recorded result counts an attempt.
 */
const JOB_LEASES: LeasedTable<HandoffJobsDatabase, 'handoff_jobs', 'seq'> = {
  table: 'handoff_jobs', key: 'seq', order: ['seq'], countAttempts: 'onSettle',
  open: (eb) => eb('status', '=', 'pending'),
  due: (eb, now) =>
    eb.and([
      eb('next_attempt_at', '<=', now),
      eb.not(
        eb.exists(
          eb
            .selectFrom('handoff_jobs as e')
            .select(sql.lit(1).as('one'))
            .whereRef('e.handoff_id', '=', 'handoff_jobs.handoff_id')
            .where('e.status', '=', 'pending')
            .whereRef('e.seq', '<', 'handoff_jobs.seq'),
        ),
      ),
    ]),
};

export class HandoffJobsRepository {
  private readonly claims: LeasedClaims<HandoffJobsDatabase, 'handoff_jobs', 'seq'>;

  constructor(private readonly store: Pick<Store, 'kind' | 'db'>) {
    this.claims = new LeasedClaims(store, JOB_LEASES);
  }

  private get db(): Kysely<Database & HandoffJobsDatabase> {
    return this.store.db.withTables<HandoffJobsDatabase>();
  }

  /** Claims due jobs held by no live claim, each the oldest unfinished one of its hand-off. */
  async claimDue(opts: { workerId: string; now: Date; leaseMs: number; limit: number }): Promise<Job[]> {
    const rows = await this.claims.claim(opts);
    return rows.map(toJob).sort((a, b) => a.seq - b.seq);
  }

  /** Finishes a job (done, or failed for good), or puts it back for `retryAt`; only while `workerId` holds it. */
  async settle(seq: number, workerId: string, result: { status: 'done' | 'failed' } | { status: 'pending'; retryAt: Date }): Promise<boolean> {
    return this.claims.settle(seq, workerId, {
      status: result.status,
      ...(result.status === 'pending' ? { next_attempt_at: result.retryAt.toISOString() } : {}),
    });
  }

  async countPending(): Promise<number> {
    const r = await this.db.selectFrom('handoff_jobs').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
