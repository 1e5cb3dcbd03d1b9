/**
 * Follow-ups (migration 0016-followups): written in the turn that accepted one, cancelled in the turn
 * of the person's next message or their "stop reminders", answered in the follow-up's own turn
 * (`TurnCommit.followups`, written by `writeFollowups` of ./followups-writer.ts, the batch turn
 * writer this repository registers); fired by ./worker.ts, which claims due rows with a lease
 * (PostgreSQL `FOR UPDATE SKIP LOCKED`) and settles each only while it holds the claim. `data`
 * (what the guide knew) is personal data: cleared when the follow-up settles, never logged.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { CaseIntakeInput } from '../../dialogs/support-case/case-draft';
import { followupEnding, type FollowupEnding } from '../../dialogs/followup/contract';
import { fromJson, toIso, type Database, type Json, type Timestamp } from '../storage/schema';
import { LeasedClaims, type LeasedTable } from '../storage/leased-claims';
import type { Store } from '../storage/store';
import { followupData, writeFollowups } from './followups-writer';

export { writeFollowups };
export type { CancelReason, FollowupWrites, NewFollowup } from './followups-writer';

export interface FollowupsTable {
  id: string;
  conversation_key: string;
  ending: string;
  channel: string;
  mode: string;
  hours: number;
  status: string;
  due_at: Timestamp;
  attempts: number;
  claimed_by: string | null;
  claimed_until: Timestamp | null;
  data: Json | null;
  answer: string | null;
  cancel_reason: string | null;
  created_at: Timestamp;
  settled_at: Timestamp | null;
}

export type FollowupsDatabase = { followups: FollowupsTable };

export type FollowupStatus = 'pending' | 'fired' | 'cancelled' | 'dropped';

export interface StoredFollowup {
  id: string;
  conversationKey: string;
  ending: FollowupEnding;
  channel: string;
  hours: number;
  status: FollowupStatus;
  dueAt: string;
  intake?: CaseIntakeInput;
  answer?: string;
  cancelReason?: string;
}

const time = z.union([z.date(), z.string()]).transform(toIso);
const row = z.object({
  id: z.string(),
  conversation_key: z.string(),
  ending: followupEnding,
  channel: z.string(),
  hours: z.coerce.number(),
  status: z.enum(['pending', 'fired', 'cancelled', 'dropped']),
  due_at: time,
  data: z.unknown(),
  answer: z.string().nullable(),
  cancel_reason: z.string().nullable(),
});

function toFollowup(r: unknown): StoredFollowup {
  const f = row.parse(r);
  const parsed = f.data === null ? undefined : followupData.safeParse(fromJson(f.data));
  return {
    id: f.id,
    conversationKey: f.conversation_key,
    ending: f.ending,
    channel: f.channel,
    hours: f.hours,
    status: f.status,
    dueAt: f.due_at,
    ...(parsed?.success && parsed.data.intake ? { intake: parsed.data.intake } : {}),
    ...(f.answer ? { answer: f.answer } : {}),
    ...(f.cancel_reason ? { cancelReason: f.cancel_reason } : {}),
  };
}

/** The timers' leases: a pending follow-up is due at its time, soonest first; each claim counts an attempt. */
const FOLLOWUP_LEASES: LeasedTable<FollowupsDatabase, 'followups', 'id'> = {
  table: 'followups', key: 'id', order: ['due_at'], countAttempts: 'onClaim',
  open: (eb) => eb('status', '=', 'pending'),
  due: (eb, now) => eb('due_at', '<=', now),
};

export class FollowupsRepository {
  private readonly claims: LeasedClaims<FollowupsDatabase, 'followups', 'id'>;

  /** Registers `writeFollowups` with the store: from now on its turns may carry follow-ups. */
  constructor(private readonly store: Pick<Store, 'kind' | 'db' | 'registerTurnWriter'>) {
    store.registerTurnWriter(writeFollowups);
    this.claims = new LeasedClaims(store, FOLLOWUP_LEASES);
  }

  private get db(): Kysely<Database & FollowupsDatabase> {
    return this.store.db.withTables<FollowupsDatabase>();
  }

  async get(id: string): Promise<StoredFollowup | undefined> {
    const r = await this.db.selectFrom('followups').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toFollowup(r) : undefined;
  }

  /** The conversation's pending follow-ups, soonest first ("status"). */
  async pendingFor(conversationKey: string): Promise<StoredFollowup[]> {
    const rows = await this.db.selectFrom('followups').selectAll().where('conversation_key', '=', conversationKey).where('status', '=', 'pending').orderBy('due_at').execute();
    return rows.map(toFollowup);
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('followups').select(['status', (eb) => eb.fn.countAll().as('n')]).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Claims up to `limit` pending follow-ups that are due and held by no live claim, soonest first. */
  async claimDue(opts: { workerId: string; now: Date; leaseMs: number; limit: number }): Promise<StoredFollowup[]> {
    const rows = await this.claims.claim(opts);
    return rows.map(toFollowup).sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.id.localeCompare(b.id));
  }

  /** Extends a live claim right before firing; false when it is gone (cancelled, or taken over). */
  async renewClaim(id: string, workerId: string, now: Date, until: Date): Promise<boolean> {
    return this.claims.renew(id, { workerId, now, until });
  }

  /** Fired or dropped, only while `workerId` holds the claim; what the guide knew is cleared. */
  async settle(id: string, workerId: string, status: 'fired' | 'dropped', at: Date): Promise<boolean> {
    return this.claims.settle(id, workerId, { status, settled_at: at.toISOString(), data: null }, { whileOpen: true });
  }

  /** Gives a follow-up back after a failed attempt: a later pass may take it from `retryAt`. */
  async release(id: string, workerId: string, retryAt: Date): Promise<void> {
    await this.claims.release(id, workerId, retryAt);
  }
}
