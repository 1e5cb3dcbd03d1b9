/**
 * How much one web chat conversation may upload within a sliding window (a screenshot or two for a
 * case, not a file share): at most `maxFiles` files and `maxBytes` bytes per `windowMs`. Over it, the
 * upload is answered 429 with `Retry-After`: when enough of the oldest counted uploads leave the window.
 *
 * The room is reserved before a file is written, and the check and the reservation are one step:
 * parallel uploads to one conversation are decided one after another, each against everything reserved
 * before it, so together they never pass the limits. With the bot's SQL store the reservations are rows
 * (migration 0011) written in one transaction that first takes the conversation's lock, so instances
 * sharing one PostgreSQL database count together and the count survives a restart. An upload whose
 * files then cannot be written gives its reservation back.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { isSqlStore, type SqlStoreHandle } from './sql-activity-log';

export interface UploadQuotaLimits {
  maxFiles: number;
  maxBytes: number;
  windowMs: number;
}

/** Room held for one upload (its files and bytes) from the moment it was granted. */
export interface UploadReservation {
  readonly id: string;
  readonly conversationId: string;
}

export type UploadQuotaRefusal = { allowed: false; retryAfterSeconds: number; reason: 'files' | 'bytes' };
export type UploadQuotaDecision = { allowed: true; reservation: UploadReservation } | UploadQuotaRefusal;

export interface UploadQuota {
  readonly limits: UploadQuotaLimits;
  /** Reserves room for these new files (their sizes) in the conversation, or says when to try again. */
  reserve(conversationId: string, incoming: readonly number[], now: Date): Promise<UploadQuotaDecision>;
  /** Gives the room back: the upload's files were not kept. */
  release(reservation: UploadReservation): Promise<void>;
}

/** An earlier upload of the conversation that still counts: when, how many files, how many bytes. */
export interface CountedUpload {
  at: number;
  files: number;
  bytes: number;
}

/** The decision itself, on what is already counted in the window (`counted` may hold older entries). */
export function decideUpload(
  counted: readonly CountedUpload[],
  incoming: readonly number[],
  limits: UploadQuotaLimits,
  now: Date,
): { allowed: true } | UploadQuotaRefusal {
  const since = now.getTime() - limits.windowMs;
  const inWindow = counted.filter((u) => Number.isFinite(u.at) && u.at > since).sort((a, b) => a.at - b.at);
  let files = inWindow.reduce((n, u) => n + u.files, 0) + incoming.length;
  let bytes = inWindow.reduce((n, u) => n + u.bytes, 0) + incoming.reduce((n, s) => n + s, 0);
  const overFiles = files > limits.maxFiles;
  const overBytes = bytes > limits.maxBytes;
  if (!overFiles && !overBytes) return { allowed: true };
  // Wait until enough of the oldest uploads have left the window for this one to fit (at least one).
  let freedAt = now.getTime();
  for (const u of inWindow) {
    if (files <= limits.maxFiles && bytes <= limits.maxBytes) break;
    files -= u.files;
    bytes -= u.bytes;
    freedAt = u.at + limits.windowMs;
  }
  return {
    allowed: false,
    reason: overFiles ? 'files' : 'bytes',
    retryAfterSeconds: Math.max(1, Math.ceil((freedAt - now.getTime()) / 1000)),
  };
}

function reservationId(): string {
  return randomBytes(16).toString('hex');
}

/** Reservations in this process only: for a bot without a SQL store (whose conversations live in memory too). */
export class MemoryUploadQuota implements UploadQuota {
  private readonly byConversation = new Map<string, (CountedUpload & { id: string })[]>();

  constructor(readonly limits: UploadQuotaLimits) {}

  // Synchronous from the check to the insert: no other upload runs in between.
  async reserve(conversationId: string, incoming: readonly number[], now: Date): Promise<UploadQuotaDecision> {
    const since = now.getTime() - this.limits.windowMs;
    const counted = (this.byConversation.get(conversationId) ?? []).filter((u) => u.at > since);
    const decision = decideUpload(counted, incoming, this.limits, now);
    if (!decision.allowed) return decision;
    const id = reservationId();
    counted.push({ id, at: now.getTime(), files: incoming.length, bytes: incoming.reduce((n, s) => n + s, 0) });
    this.byConversation.set(conversationId, counted);
    return { allowed: true, reservation: { id, conversationId } };
  }

  async release(reservation: UploadReservation): Promise<void> {
    const left = (this.byConversation.get(reservation.conversationId) ?? []).filter((u) => u.id !== reservation.id);
    if (left.length) this.byConversation.set(reservation.conversationId, left);
    else this.byConversation.delete(reservation.conversationId);
  }
}

interface UploadReservationsTable {
  id: string;
  conversation_id: string;
  files: number;
  bytes: number | string;
  created_at: Date | string;
}

interface UploadQuotaDatabase {
  webchat_upload_reservations: UploadReservationsTable;
}

/** The first key of the PostgreSQL advisory lock: this quota's own space of (class, conversation) locks. */
const LOCK_CLASS = 0x50434555;
/** Reservations older than the window are deleted at most this often per instance (they no longer count). */
const PRUNE_EVERY_MS = 3600_000;

/** Reservations in the bot's store (migration 0011-webchat-upload-reservations), on SQLite and PostgreSQL. */
export class SqlUploadQuota implements UploadQuota {
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: SqlStoreHandle,
    readonly limits: UploadQuotaLimits,
  ) {}

  private get db(): Kysely<UploadQuotaDatabase> {
    return this.store.db as Kysely<UploadQuotaDatabase>;
  }

  async reserve(conversationId: string, incoming: readonly number[], now: Date): Promise<UploadQuotaDecision> {
    const since = new Date(now.getTime() - this.limits.windowMs).toISOString();
    const decision = await this.db.transaction().execute(async (trx): Promise<UploadQuotaDecision> => {
      // PostgreSQL: uploads to one conversation, from every instance, take turns here until commit.
      // SQLite: one process owns the file and Kysely runs its transactions one at a time.
      if (this.store.kind === 'postgres') {
        await sql`select pg_advisory_xact_lock(${LOCK_CLASS}::int, hashtext(${conversationId}))`.execute(trx);
      }
      const rows = await trx
        .selectFrom('webchat_upload_reservations')
        .select(['created_at', 'files', 'bytes'])
        .where('conversation_id', '=', conversationId)
        .where('created_at', '>', since)
        .execute();
      const counted = rows.map((r) => ({ at: new Date(r.created_at).getTime(), files: Number(r.files), bytes: Number(r.bytes) }));
      const verdict = decideUpload(counted, incoming, this.limits, now);
      if (!verdict.allowed) return verdict;
      const id = reservationId();
      await trx
        .insertInto('webchat_upload_reservations')
        .values({ id, conversation_id: conversationId, files: incoming.length, bytes: incoming.reduce((n, s) => n + s, 0), created_at: now.toISOString() })
        .execute();
      return { allowed: true, reservation: { id, conversationId } };
    });
    await this.prune(now, since);
    return decision;
  }

  async release(reservation: UploadReservation): Promise<void> {
    await this.db.deleteFrom('webchat_upload_reservations').where('id', '=', reservation.id).execute();
  }

  /** Housekeeping outside the reservation's transaction: rows out of the window count for nothing. */
  private async prune(now: Date, since: string): Promise<void> {
    if (now.getTime() - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now.getTime();
    await this.db
      .deleteFrom('webchat_upload_reservations')
      .where('created_at', '<=', since)
      .execute()
      .catch(() => undefined);
  }
}

/** The SQL quota on the bot's SQL store, else one in this process. */
export function createUploadQuota(limits: UploadQuotaLimits, store?: object): UploadQuota {
  return isSqlStore(store) ? new SqlUploadQuota(store, limits) : new MemoryUploadQuota(limits);
}
