/**
 * Status updates of cases from their support system (migration 0014-case-updates): stored by the
 * signed inbound endpoint (./updates-endpoint.ts), told to the person by ./update-notices.ts. A
 * repeated event (same backend, same event id) is stored once; the worker claims untold updates
 * with a lease (PostgreSQL `FOR UPDATE SKIP LOCKED`) and marks them told only while it holds the
 * claim, so each update is told once across restarts and instances.
 */
import type { Generated, Kysely } from 'kysely';
import { z } from 'zod';
import { toIso, type Database, type Timestamp } from '../storage/schema';
import { LeasedClaims, type LeasedTable } from '../storage/leased-claims';
import type { Store } from '../storage/store';
import type { CasesDatabase } from './repository';

/** The statuses a support system may report, in the words of the endpoint's contract. */
export const CASE_UPDATE_STATUSES = ['open', 'in_progress', 'waiting_for_customer', 'resolved', 'closed'] as const;
export type CaseUpdateStatus = (typeof CASE_UPDATE_STATUSES)[number];

export interface CaseUpdatesTable {
  id: Generated<number | string>;
  backend: string;
  event_id: string;
  reference: string;
  status: string;
  ticket_id: string | null;
  message: string | null;
  received_at: Timestamp;
  told_at: Timestamp | null;
  told_result: string | null;
  attempts: Generated<number>;
  claimed_by: string | null;
  claimed_until: Timestamp | null;
}

export type CaseUpdatesDatabase = CasesDatabase & { case_updates: CaseUpdatesTable };

export interface NewCaseUpdate {
  backend: string;
  eventId: string;
  reference: string;
  status: CaseUpdateStatus;
  ticketId?: string;
  /** The engineer's note as written (personal data: never logged). */
  message?: string;
}

export interface CaseUpdate extends NewCaseUpdate {
  id: string;
  receivedAt: string;
  toldAt?: string;
}

/** `stored`: new and kept; `repeat`: this event id was stored before; `unknown`: no such case. */
export type RecordResult = 'stored' | 'repeat' | 'unknown';

export type CaseUpdatesStore = Pick<Store, 'kind' | 'db'>;

const updateRow = z.object({
  id: z.union([z.number(), z.string(), z.bigint()]).transform(String),
  backend: z.string(),
  event_id: z.string(),
  reference: z.string(),
  status: z.enum(CASE_UPDATE_STATUSES),
  ticket_id: z.string().nullable(),
  message: z.string().nullable(),
  received_at: z.union([z.date(), z.string()]).transform(toIso),
  told_at: z.union([z.date(), z.string(), z.null()]).transform((v) => (v === null ? undefined : toIso(v))),
});

function rowToUpdate(row: unknown): CaseUpdate {
  const r = updateRow.parse(row);
  return {
    id: r.id,
    backend: r.backend,
    eventId: r.event_id,
    reference: r.reference,
    status: r.status,
    ticketId: r.ticket_id ?? undefined,
    message: r.message ?? undefined,
    receivedAt: r.received_at,
    toldAt: r.told_at,
  };
}

/** The notices' leases: every untold update is due, oldest first; each claim counts an attempt. */
const UPDATE_LEASES: LeasedTable<CaseUpdatesDatabase, 'case_updates', 'id'> = {
  table: 'case_updates', key: 'id', order: ['received_at', 'id'], countAttempts: 'onClaim',
  open: (eb) => eb('told_at', 'is', null),
};

export class CaseUpdatesRepository {
  private readonly claims: LeasedClaims<CaseUpdatesDatabase, 'case_updates', 'id'>;

  constructor(private readonly store: CaseUpdatesStore) {
    this.claims = new LeasedClaims(store, UPDATE_LEASES);
  }

  private get db(): Kysely<Database & CaseUpdatesDatabase> {
    return this.store.db.withTables<CaseUpdatesDatabase>();
  }

  /**
   * Stores an update of a known case in one transaction (the case is looked up in it too); the
   * endpoint answers 200 only after this resolved `stored` or `repeat`.
   */
  async record(update: NewCaseUpdate, now: Date): Promise<RecordResult> {
    return this.db.transaction().execute(async (trx) => {
      const known = await trx.selectFrom('cases').select('reference').where('reference', '=', update.reference).executeTakeFirst();
      if (!known) return 'unknown';
      const inserted = await trx
        .insertInto('case_updates')
        .values({
          backend: update.backend,
          event_id: update.eventId,
          reference: update.reference,
          status: update.status,
          ticket_id: update.ticketId ?? null,
          message: update.message ?? null,
          received_at: now.toISOString(),
          told_at: null,
          told_result: null,
          claimed_by: null,
          claimed_until: null,
        })
        .onConflict((oc) => oc.columns(['backend', 'event_id']).doNothing())
        .executeTakeFirst();
      return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n ? 'stored' : 'repeat';
    });
  }

  /** The case's updates, oldest first (its current status is the last one's). */
  async history(reference: string): Promise<CaseUpdate[]> {
    const rows = await this.db
      .selectFrom('case_updates')
      .selectAll()
      .where('reference', '=', reference)
      .orderBy('received_at')
      .orderBy('id')
      .execute();
    return rows.map(rowToUpdate);
  }

  /**
   * The backend's delivered cases that no update has closed (newest delivered first, at most
   * `limit`), each with the updates stored for it from that backend, oldest first: what a backend
   * polling per record needs (./updates-poller.ts).
   */
  async openCases(backend: string, limit = 1000): Promise<{ reference: string; externalId?: string; updates: CaseUpdate[] }[]> {
    const rows = await this.db
      .selectFrom('cases')
      .select(['reference', 'external_id'])
      .where('backend', '=', backend)
      .where('status', '=', 'delivered')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('case_updates').select('case_updates.id').whereRef('case_updates.reference', '=', 'cases.reference').where('case_updates.status', '=', 'closed'))),
      )
      .orderBy('delivered_at', 'desc')
      .limit(limit)
      .execute();
    if (!rows.length) return [];
    const updates = await this.db
      .selectFrom('case_updates')
      .selectAll()
      .where('backend', '=', backend)
      .where('reference', 'in', rows.map((r) => r.reference))
      .orderBy('received_at')
      .orderBy('id')
      .execute();
    const all = updates.map(rowToUpdate);
    return rows.map((r) => ({ reference: r.reference, externalId: r.external_id ?? undefined, updates: all.filter((u) => u.reference === r.reference) }));
  }

  async findByEventId(backend: string, eventId: string): Promise<CaseUpdate | undefined> {
    const row = await this.db.selectFrom('case_updates').selectAll().where('backend', '=', backend).where('event_id', '=', eventId).executeTakeFirst();
    return row ? rowToUpdate(row) : undefined;
  }

  /** Claims up to `limit` untold updates not held by a live claim, oldest first. */
  async claimUntold(opts: { workerId: string; now: Date; leaseMs: number; limit: number }): Promise<CaseUpdate[]> {
    const rows = await this.claims.claim(opts);
    return rows.map(rowToUpdate).sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || Number(a.id) - Number(b.id));
  }

  /**
   * Extends `workerId`'s live claim right before it tells the update; false when the claim expired
   * or passed to another instance (then this worker must not tell it).
   */
  async renewClaim(id: string, workerId: string, now: Date, until: Date): Promise<boolean> {
    return this.claims.renew(id, { workerId, now, until });
  }

  /** Marks the update told (only while `workerId` holds the claim). */
  async markTold(id: string, workerId: string, result: string, at: Date): Promise<boolean> {
    return this.claims.settle(id, workerId, { told_at: at.toISOString(), told_result: result });
  }

  /** Gives an update back after a failed attempt: another pass may take it after `retryAt`. */
  async release(id: string, workerId: string, retryAt: Date): Promise<void> {
    await this.claims.release(id, workerId, retryAt);
  }

  async countUntold(): Promise<number> {
    const row = await this.db
      .selectFrom('case_updates')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('told_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
