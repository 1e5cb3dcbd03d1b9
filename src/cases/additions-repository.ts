/**
 * Additions to open cases (migration 0015-case-additions): taken in a turn (`TurnCommit.caseAdditions`,
 * written in its transaction by `writeCaseAdditions`, the turn writer this repository registers)
 * and pushed to the case backend by ./additions-outbox.ts, which claims due rows with a lease
 * (PostgreSQL `FOR UPDATE SKIP LOCKED`) and records each attempt only while it holds the claim.
 * The content is personal data: it is stored and pushed, never logged.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { attachmentRef, type AttachmentRef } from '../../dialogs/flow';
import { fromJson, toIso, type Database, type Json, type Timestamp } from '../storage/schema';
import { LeasedClaims, type LeasedTable } from '../storage/leased-claims';
import type { Store } from '../storage/store';
import type { TransactionTurnWriter } from '../storage/turn-writers';

declare module '../storage/turn-commit' {
  interface TurnCommit {
    /** What the person added to their open cases in this turn (written by `writeCaseAdditions`). */
    caseAdditions?: NewCaseAddition[];
  }
}

export interface CaseAdditionsTable {
  id: string;
  reference: string;
  conversation_key: string;
  added_by: string;
  backend: string;
  status: string;
  attempts: number;
  next_attempt_at: Timestamp | null;
  claimed_by: string | null;
  claimed_until: Timestamp | null;
  last_error: string | null;
  content: Json;
  created_at: Timestamp;
  delivered_at: Timestamp | null;
}

export type CaseAdditionsDatabase = { case_additions: CaseAdditionsTable };

export type AdditionStatus = 'pending' | 'delivered' | 'failed';

export interface NewCaseAddition {
  id: string;
  reference: string;
  conversationKey: string;
  addedBy: string;
  backend: string;
  text: string;
  attachments: AttachmentRef[];
  createdAt: string;
}

export interface StoredCaseAddition extends NewCaseAddition {
  status: AdditionStatus;
  attempts: number;
  lastError?: string;
  deliveredAt?: string;
}

const content = z.object({ text: z.string(), attachments: z.array(attachmentRef) });
const time = z.union([z.date(), z.string()]).transform(toIso);
const row = z.object({
  id: z.string(),
  reference: z.string(),
  conversation_key: z.string(),
  added_by: z.string(),
  backend: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.coerce.number().int(),
  last_error: z.string().nullable(),
  content: z.unknown(),
  created_at: time,
  delivered_at: time.nullable(),
});

function rowToAddition(r: unknown): StoredCaseAddition {
  const a = row.parse(r);
  const { text, attachments } = content.parse(fromJson(a.content));
  return {
    id: a.id,
    reference: a.reference,
    conversationKey: a.conversation_key,
    addedBy: a.added_by,
    backend: a.backend,
    text,
    attachments,
    createdAt: a.created_at,
    status: a.status,
    attempts: a.attempts,
    ...(a.last_error ? { lastError: a.last_error } : {}),
    ...(a.delivered_at ? { deliveredAt: a.delivered_at } : {}),
  };
}

/** The turn writer for `TurnCommit.caseAdditions`, registered by every `CaseAdditionsRepository`. */
export const writeCaseAdditions: TransactionTurnWriter = {
  name: 'case_additions',
  mode: 'transaction',
  field: 'caseAdditions',
  applies: (commit) => (commit.caseAdditions?.length ?? 0) > 0,
  async write(trx, commit) {
    const additions = commit.caseAdditions ?? [];
    if (!additions.length) return;
    await trx
      .withTables<CaseAdditionsDatabase>()
      .insertInto('case_additions')
      .values(
        additions.map((a) => ({
          id: a.id,
          reference: a.reference,
          conversation_key: a.conversationKey,
          added_by: a.addedBy,
          backend: a.backend,
          status: 'pending',
          attempts: 0,
          next_attempt_at: a.createdAt,
          claimed_by: null,
          claimed_until: null,
          last_error: null,
          content: JSON.stringify(content.parse({ text: a.text, attachments: a.attachments })),
          created_at: a.createdAt,
          delivered_at: null,
        })),
      )
      .execute();
  },
};

/** The pushes' leases: a pending addition is due from its next attempt; each recorded result counts an attempt. */
const ADDITION_LEASES: LeasedTable<CaseAdditionsDatabase, 'case_additions', 'id'> = {
  table: 'case_additions', key: 'id', order: ['created_at'], countAttempts: 'onSettle',
  open: (eb) => eb('status', '=', 'pending'),
  due: (eb, now) => eb('next_attempt_at', '<=', now),
};

export class CaseAdditionsRepository {
  private readonly claims: LeasedClaims<CaseAdditionsDatabase, 'case_additions', 'id'>;

  /** Registers `writeCaseAdditions` with the store: from now on its turns may carry additions. */
  constructor(private readonly store: Pick<Store, 'kind' | 'db' | 'registerTurnWriter'>) {
    store.registerTurnWriter(writeCaseAdditions);
    this.claims = new LeasedClaims(store, ADDITION_LEASES);
  }

  private get db(): Kysely<Database & CaseAdditionsDatabase> {
    return this.store.db.withTables<CaseAdditionsDatabase>();
  }

  /** The case's additions, oldest first. */
  async forCase(reference: string): Promise<StoredCaseAddition[]> {
    const rows = await this.db.selectFrom('case_additions').selectAll().where('reference', '=', reference).orderBy('created_at').orderBy('id').execute();
    return rows.map(rowToAddition);
  }

  async countByStatus(status: AdditionStatus): Promise<number> {
    const r = await this.db
      .selectFrom('case_additions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', '=', status)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Claims up to `limit` pending additions that are due and held by no live claim, oldest first. */
  async claimDue(opts: { workerId: string; now: Date; leaseMs: number; limit: number }): Promise<StoredCaseAddition[]> {
    const rows = await this.claims.claim(opts);
    return rows.map(rowToAddition).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Extends a live claim right before the push; false when it passed to another worker (then do not push). */
  async holdClaim(id: string, workerId: string, now: Date, until: Date): Promise<boolean> {
    return this.claims.renew(id, { workerId, now, until });
  }

  /**
   * Records one attempt and drops the claim, only while `workerId` holds it: delivered, failed, or
   * pending again from `nextAttemptAt`.
   */
  async settle(
    id: string,
    workerId: string,
    result: { status: AdditionStatus; at: Date; error?: string; nextAttemptAt?: Date },
  ): Promise<boolean> {
    return this.claims.settle(id, workerId, {
      status: result.status,
      last_error: result.error ?? null,
      next_attempt_at: result.nextAttemptAt?.toISOString() ?? null,
      delivered_at: result.status === 'delivered' ? result.at.toISOString() : null,
    });
  }
}
