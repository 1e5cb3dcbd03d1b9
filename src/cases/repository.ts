/**
 * Support cases in the store (migration 0002-cases in src/storage/migrations/): the row is the case
 * and its outbox entry at once. New cases ride on the turn that confirmed them (`TurnCommit.cases`)
 * and are written in its transaction by `writeCases`, the turn writer this repository registers
 * with the store; the delivery worker claims due rows (PostgreSQL `FOR UPDATE SKIP LOCKED`, a lease
 * that expires if an instance dies), and records each attempt's result only while it still holds
 * the claim (the leases: src/storage/leased-claims.ts).
 */
import type { ColumnType, Kysely } from 'kysely';
import { z } from 'zod';
import { fromJson, toIso, type Database, type Json, type Timestamp } from '../storage/schema';
import { LeasedClaims, type LeasedTable } from '../storage/leased-claims';
import type { Store } from '../storage/store';
import type { TransactionTurnWriter } from '../storage/turn-writers';
import { caseRecord, type CaseRecord, type DeliveryStatus } from './schema';

declare module '../storage/turn-commit' {
  interface TurnCommit {
    /** Support cases confirmed in this turn, with their outbox state (written by `writeCases`). */
    cases?: NewCase[];
  }
}

export interface CasesTable {
  reference: string;
  conversation_key: string;
  dedupe_key: string;
  opened_by: string;
  backend: string;
  status: string;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp | null;
  claimed_by: string | null;
  claimed_until: Timestamp | null;
  last_error: string | null;
  external_id: string | null;
  delivered_at: Timestamp | null;
  record: Json;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CaseCountersTable {
  name: string;
  value: ColumnType<number | string | bigint, number, number>;
}

/** The tables, as `store.db.withTables<…>()` takes them. */
export type CasesDatabase = {
  cases: CasesTable;
  case_counters: CaseCountersTable;
};

/** A case that has not reached its backend, as operators see it (`npm run cases -- list`). */
export interface UndeliveredCase {
  reference: string;
  backend: string;
  status: 'pending' | 'failed';
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  createdAt: string;
  /** Set while an instance is delivering it right now. */
  claimedUntil?: string;
}

/** A case for `commitTurn`: written in the same transaction as the turn that confirmed it. */
export interface NewCase {
  record: CaseRecord;
  dedupeKey: string;
}

/** What the repository needs of the store. */
export type CaseStore = Pick<Store, 'kind' | 'db' | 'registerTurnWriter'>;

const nullableTime = z
  .union([z.date(), z.string(), z.null()])
  .transform((v) => (v === null ? undefined : toIso(v)));
const caseRow = z.object({
  reference: z.string(),
  conversation_key: z.string(),
  opened_by: z.string(),
  backend: z.string(),
  status: z.string(),
  attempts: z.coerce.number().int(),
  next_attempt_at: nullableTime,
  last_error: z.string().nullable(),
  external_id: z.string().nullable(),
  delivered_at: nullableTime,
  record: z.unknown(),
});

/** A stored case: the record with its delivery state read from the outbox columns. */
export function rowToCase(row: unknown): CaseRecord {
  const r = caseRow.parse(row);
  const record = fromJson(r.record) as Record<string, unknown>;
  return caseRecord.parse({
    ...record,
    delivery: {
      backend: r.backend,
      status: r.status,
      attempts: r.attempts,
      externalId: r.external_id ?? undefined,
      lastError: r.last_error ?? undefined,
      nextAttemptAt: r.next_attempt_at,
      deliveredAt: r.delivered_at,
    },
  });
}

/** Inserts new cases inside `commitTurn`'s transaction (both dialects). */
async function insertCases(trx: Kysely<Database & CasesDatabase>, cases: readonly NewCase[], now: string): Promise<void> {
  if (!cases.length) return;
  await trx
    .insertInto('cases')
    .values(
      cases.map(({ record, dedupeKey }) => {
        const checked = caseRecord.parse(record);
        const { delivery, ...content } = checked;
        return {
          reference: checked.reference,
          conversation_key: checked.conversationKey,
          dedupe_key: dedupeKey,
          opened_by: checked.openedBy.userKey,
          backend: delivery.backend,
          status: delivery.status,
          attempts: delivery.attempts,
          next_attempt_at: delivery.status === 'pending' ? (delivery.nextAttemptAt ?? checked.createdAt) : null,
          claimed_by: null,
          claimed_until: null,
          last_error: delivery.lastError ?? null,
          external_id: delivery.externalId ?? null,
          delivered_at: null,
          record: JSON.stringify(content),
          created_at: checked.createdAt,
          updated_at: now,
        };
      }),
    )
    .execute();
}

/** The turn writer for `TurnCommit.cases`, registered by every `CaseRepository`. */
export const writeCases: TransactionTurnWriter = {
  name: 'cases',
  mode: 'transaction',
  field: 'cases',
  applies: (commit) => (commit.cases?.length ?? 0) > 0,
  async write(trx, commit) {
    if (commit.cases?.length) await insertCases(trx.withTables<CasesDatabase>(), commit.cases, commit.conversation.updatedAt);
  },
};

/** The outbox's leases: a pending case is due from its next attempt; each recorded result counts an attempt. */
const CASE_LEASES: LeasedTable<CasesDatabase, 'cases', 'reference'> = {
  table: 'cases', key: 'reference', order: ['next_attempt_at'], countAttempts: 'onSettle',
  open: (eb) => eb('status', '=', 'pending'),
  due: (eb, now) => eb('next_attempt_at', '<=', now),
};

export class CaseRepository {
  private readonly claims: LeasedClaims<CasesDatabase, 'cases', 'reference'>;

  /** Registers `writeCases` with the store: from now on its turns may carry cases. */
  constructor(private readonly store: CaseStore) {
    store.registerTurnWriter(writeCases);
    this.claims = new LeasedClaims(store, CASE_LEASES);
  }

  private get db() {
    return this.store.db.withTables<CasesDatabase>();
  }

  /** The next case number from the store's counter (gaps are possible, repeats are not). */
  async nextNumber(): Promise<number> {
    const row = await this.db
      .updateTable('case_counters')
      .set((eb) => ({ value: eb('value', '+', 1) as never }))
      .where('name', '=', 'case')
      .returning('value')
      .executeTakeFirstOrThrow();
    return Number(row.value);
  }

  async findByReference(reference: string): Promise<CaseRecord | undefined> {
    const row = await this.db.selectFrom('cases').selectAll().where('reference', '=', reference).executeTakeFirst();
    return row ? rowToCase(row) : undefined;
  }

  /** The conversation's delivered cases, newest first, as references and owners only (a cheap check on every message). */
  async deliveredInConversation(conversationKey: string): Promise<{ reference: string; openedBy: string }[]> {
    const rows = await this.db
      .selectFrom('cases')
      .select(['reference', 'opened_by'])
      .where('conversation_key', '=', conversationKey)
      .where('status', '=', 'delivered')
      .orderBy('created_at', 'desc')
      .limit(20)
      .execute();
    return rows.map((r) => ({ reference: r.reference, openedBy: r.opened_by }));
  }

  /** The conversation's cases, newest first (the add intent's "my case"). */
  async listByConversation(conversationKey: string, limit = 20): Promise<CaseRecord[]> {
    const rows = await this.db.selectFrom('cases').selectAll().where('conversation_key', '=', conversationKey).orderBy('created_at', 'desc').limit(limit).execute();
    return rows.map(rowToCase);
  }

  async findByDedupeKey(dedupeKey: string): Promise<CaseRecord | undefined> {
    const row = await this.db.selectFrom('cases').selectAll().where('dedupe_key', '=', dedupeKey).executeTakeFirst();
    return row ? rowToCase(row) : undefined;
  }

  async countByStatus(status: DeliveryStatus): Promise<number> {
    const row = await this.db
      .selectFrom('cases')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', '=', status)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Claims up to `limit` pending cases that are due and not held by a live claim, soonest due first. */
  async claimDue(opts: { workerId: string; now: Date; leaseMs: number; limit: number }): Promise<CaseRecord[]> {
    return (await this.claims.claim(opts)).map(rowToCase);
  }

  /**
   * Extends `workerId`'s live claim to `until` (right before it sends the case); false when the claim
   * expired or passed to another instance, and the case must not be sent by this worker.
   */
  async renewClaim(reference: string, workerId: string, until: Date): Promise<boolean> {
    return this.claims.renew(reference, { workerId, until });
  }

  /** When the oldest case still waiting for delivery was opened; undefined when none waits. */
  async oldestPendingCreatedAt(): Promise<Date | undefined> {
    const row = await this.db
      .selectFrom('cases')
      .select((eb) => eb.fn.min('created_at').as('oldest'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return row?.oldest ? new Date(toIso(row.oldest as Date | string)) : undefined;
  }

  /**
   * Cases not delivered (pending and failed), for operators: delivery columns only, no content of
   * the case (no names, emails or text). Failed first, then pending by next attempt.
   */
  async listUndelivered(limit = 1000): Promise<UndeliveredCase[]> {
    const rows = await this.db
      .selectFrom('cases')
      .select(['reference', 'backend', 'status', 'attempts', 'next_attempt_at', 'last_error', 'created_at', 'claimed_until'])
      .where('status', 'in', ['pending', 'failed'])
      .orderBy('status')
      .orderBy('next_attempt_at')
      .orderBy('reference')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      reference: r.reference,
      backend: r.backend,
      status: r.status as 'pending' | 'failed',
      attempts: Number(r.attempts),
      nextAttemptAt: r.next_attempt_at ? toIso(r.next_attempt_at) : undefined,
      lastError: r.last_error ?? undefined,
      createdAt: toIso(r.created_at),
      claimedUntil: r.claimed_until ? toIso(r.claimed_until) : undefined,
    }));
  }

  /**
   * Makes cases due at `now` (an operator's retry): a failed case becomes pending again with its
   * attempts reset (a fresh backoff), a pending one keeps its count and is only brought forward.
   * A claim in progress is left alone, so a delivery under way is not sent a second time.
   * Delivered and `manual` cases are never touched. Returns the references made due.
   */
  async retry(target: { reference: string } | { allFailed: true }, now: Date): Promise<string[]> {
    const at = now.toISOString();
    const failed = await this.db
      .updateTable('cases')
      .set({ status: 'pending', attempts: 0, next_attempt_at: at, updated_at: at })
      .where('status', '=', 'failed')
      .$if('reference' in target, (q) => q.where('reference', '=', (target as { reference: string }).reference))
      .returning('reference')
      .execute();
    if (!('reference' in target)) return failed.map((r) => r.reference);
    if (failed.length) return [target.reference];
    const pending = await this.db
      .updateTable('cases')
      .set({ next_attempt_at: at, updated_at: at })
      .where('status', '=', 'pending')
      .where('reference', '=', target.reference)
      .returning('reference')
      .execute();
    return pending.map((r) => r.reference);
  }

  async markDelivered(reference: string, workerId: string, result: { externalId?: string; at: Date }): Promise<boolean> {
    const at = result.at.toISOString();
    return this.releaseClaim(reference, workerId, at, {
      status: 'delivered',
      external_id: result.externalId ?? null,
      delivered_at: at,
      next_attempt_at: null,
      last_error: null,
    });
  }

  async markRetry(reference: string, workerId: string, result: { error: string; nextAttemptAt: Date; at: Date }): Promise<boolean> {
    return this.releaseClaim(reference, workerId, result.at.toISOString(), {
      last_error: result.error,
      next_attempt_at: result.nextAttemptAt.toISOString(),
    });
  }

  async markFailed(reference: string, workerId: string, result: { error: string; at: Date }): Promise<boolean> {
    return this.releaseClaim(reference, workerId, result.at.toISOString(), {
      status: 'failed',
      last_error: result.error,
      next_attempt_at: null,
    });
  }

  /**
   * Ends one delivery attempt: counts it, drops the claim and writes `fields`, but only while
   * `workerId` still holds the claim (a claimant whose lease expired must not overwrite the new one).
   */
  private async releaseClaim(
    reference: string,
    workerId: string,
    at: string,
    fields: { status?: 'delivered' | 'failed'; external_id?: string | null; delivered_at?: string; next_attempt_at: string | null; last_error: string | null },
  ): Promise<boolean> {
    return this.claims.settle(reference, workerId, { ...fields, updated_at: at });
  }
}
