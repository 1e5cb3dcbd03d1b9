/**
 * The Webex channel's tables (migration 0005-webex-inbox in src/storage/migrations/), on both dialects.
 *
 * Inbox: a verified notification is written (already claimed by the instance that received it)
 * before Webex is answered 2xx. The turn it causes marks it `turned` in the turn's own transaction
 * (`markWebexNotificationTurned`, the turn writer the repository registers with the store); the
 * inbox worker (inbox-worker.ts) marks it `handled` once the replies are posted. Rows left
 * `pending` or `turned` by an instance that died are claimed again after their lease (PostgreSQL
 * `FOR UPDATE SKIP LOCKED`, as the case outbox does), so each is resumed by one instance. One
 * process owns a SQLite file, so there every claim of another worker is stale. The holder renews its
 * claim while it works (`renewClaim`), so a long wait on Webex does not let it lapse.
 *
 * Live cards: per space, the bot's message whose buttons still act, so it can be retired (deleted)
 * when the conversation moves on without it being pressed.
 */
import type { ColumnType, Generated, Kysely } from 'kysely';
import { z } from 'zod';
import { fromJson, toIso, type Json, type Timestamp } from '../../storage/schema';
import { LeasedClaims, type ClaimRequest, type LeasedTable } from '../../storage/leased-claims';
import type { Store } from '../../storage/store';
import type { TransactionTurnWriter } from '../../storage/turn-writers';

export type WebexInboxStatus = 'pending' | 'turned' | 'handled' | 'failed';

export interface WebexInboxTable {
  seq: Generated<number | string>;
  notification_id: string;
  room_id: string | null;
  resource: string;
  notification: Json;
  status: string;
  attempts: ColumnType<number, number | undefined, number>;
  claimed_by: string | null;
  claimed_until: Timestamp | null;
  last_error: string | null;
  received_at: Timestamp;
  handled_at: Timestamp | null;
}

export interface WebexLiveCardsTable {
  room_id: string;
  message_id: string;
  step: string | null;
  posted_at: Timestamp;
}

/** The tables, as `store.db.withTables<…>()` takes them. */
export type WebexDatabase = {
  webex_inbox: WebexInboxTable;
  webex_live_cards: WebexLiveCardsTable;
};

/** What the repository needs of the store. */
export type WebexStore = Pick<Store, 'kind' | 'db' | 'registerTurnWriter'>;

export interface InboxEntry {
  seq: number;
  notificationId: string;
  roomId?: string;
  resource: string;
  /** The notification as received; the channel validates it again before use. */
  notification: unknown;
  status: WebexInboxStatus;
  attempts: number;
}

export interface LiveCard {
  roomId: string;
  messageId: string;
  step?: string;
}

const inboxRow = z.object({
  seq: z.coerce.number().int(),
  notification_id: z.string(),
  room_id: z.string().nullable(),
  resource: z.string(),
  notification: z.unknown(),
  status: z.enum(['pending', 'turned', 'handled', 'failed']),
  attempts: z.coerce.number().int(),
});

function toEntry(row: unknown): InboxEntry {
  const r = inboxRow.parse(row);
  return {
    seq: r.seq,
    notificationId: r.notification_id,
    roomId: r.room_id ?? undefined,
    resource: r.resource,
    notification: fromJson(r.notification),
    status: r.status,
    attempts: r.attempts,
  };
}

const WEBEX_ACTIVITY_PREFIX = 'webex:';
/** A notification not handled or failed yet: claimed, renewed and finished only in these states. */
const UNFINISHED = ['pending', 'turned'];

/**
 * The turn writer: a turn for a Webex notification marks its inbox row `turned` in the same
 * transaction, so the row and the conversation never disagree about whether the turn happened.
 */
export const markWebexNotificationTurned: TransactionTurnWriter = {
  name: 'webex_inbox',
  mode: 'transaction',
  applies: (commit) => commit.activityKey?.startsWith(WEBEX_ACTIVITY_PREFIX) === true,
  async write(trx, commit) {
    const key = commit.activityKey;
    if (!key?.startsWith(WEBEX_ACTIVITY_PREFIX)) return;
    await trx
      .withTables<WebexDatabase>()
      .updateTable('webex_inbox')
      .set({ status: 'turned' })
      .where('notification_id', '=', key.slice(WEBEX_ACTIVITY_PREFIX.length))
      .where('status', '=', 'pending')
      .execute();
  },
};

/** The inbox's leases: every unfinished notification is due, in arrival order; each claim counts an attempt. */
const INBOX_LEASES: LeasedTable<WebexDatabase, 'webex_inbox', 'notification_id'> = {
  table: 'webex_inbox', key: 'notification_id', order: ['seq'], countAttempts: 'onClaim',
  open: (eb) => eb('status', 'in', UNFINISHED),
};

export class WebexRepository {
  private readonly claims: LeasedClaims<WebexDatabase, 'webex_inbox', 'notification_id'>;

  /** Registers `markWebexNotificationTurned` with the store. */
  constructor(private readonly store: WebexStore) {
    store.registerTurnWriter(markWebexNotificationTurned);
    this.claims = new LeasedClaims(store, INBOX_LEASES);
  }

  private get db() {
    return this.store.db.withTables<WebexDatabase>();
  }

  /**
   * Records a verified notification, claimed by the receiving worker. False when it is already
   * recorded (a re-delivery): nothing more to do for it.
   */
  async receive(
    entry: { notificationId: string; roomId?: string; resource: string; notification: unknown },
    claim: { workerId: string; now: Date; leaseMs: number },
  ): Promise<boolean> {
    const result = await this.db
      .insertInto('webex_inbox')
      .values({
        notification_id: entry.notificationId,
        room_id: entry.roomId ?? null,
        resource: entry.resource,
        notification: JSON.stringify(entry.notification),
        status: 'pending',
        attempts: 1,
        claimed_by: claim.workerId,
        claimed_until: new Date(claim.now.getTime() + claim.leaseMs).toISOString(),
        last_error: null,
        received_at: claim.now.toISOString(),
        handled_at: null,
      })
      .onConflict((oc) => oc.column('notification_id').doNothing())
      .executeTakeFirst();
    return result.numInsertedOrUpdatedRows !== 0n;
  }

  /**
   * Claims up to `limit` unfinished notifications (`pending` or `turned`) whose claim has expired,
   * in arrival order, counting an attempt for each. `takeOverOtherWorkers`: claims of other workers
   * count as expired (SQLite: one process owns the file, so they belong to a process that is gone).
   */
  async claimDue(opts: ClaimRequest): Promise<InboxEntry[]> {
    const rows = await this.claims.claim(opts);
    return rows.map(toEntry).sort((a, b) => a.seq - b.seq);
  }

  /**
   * Extends `workerId`'s claim on an unfinished notification to `now + leaseMs` (a holder renews it
   * while the notification waits in its space's queue and while it is handled). False when the claim
   * is no longer that worker's (another instance took it over after it lapsed) or the notification is
   * finished: the holder must then stop, and post nothing more for it.
   */
  async renewClaim(notificationId: string, claim: { workerId: string; now: Date; leaseMs: number }): Promise<boolean> {
    return this.claims.renew(notificationId, { workerId: claim.workerId, until: new Date(claim.now.getTime() + claim.leaseMs) });
  }

  /** The replies went out (or there was nothing to answer): done for good. */
  async markHandled(notificationId: string, at: Date): Promise<void> {
    await this.db
      .updateTable('webex_inbox')
      .set({ status: 'handled', handled_at: at.toISOString(), claimed_by: null, claimed_until: null })
      .where('notification_id', '=', notificationId)
      .where('status', 'in', UNFINISHED)
      .execute();
  }

  async markFailed(notificationId: string, error: string, at: Date): Promise<void> {
    await this.db
      .updateTable('webex_inbox')
      .set({ status: 'failed', last_error: error.slice(0, 2000), handled_at: at.toISOString(), claimed_by: null, claimed_until: null })
      .where('notification_id', '=', notificationId)
      .where('status', 'in', UNFINISHED)
      .execute();
  }

  async find(notificationId: string): Promise<(InboxEntry & { claimedBy?: string; claimedUntil?: string }) | undefined> {
    const row = await this.db.selectFrom('webex_inbox').selectAll().where('notification_id', '=', notificationId).executeTakeFirst();
    if (!row) return undefined;
    return {
      ...toEntry(row),
      claimedBy: row.claimed_by ?? undefined,
      claimedUntil: row.claimed_until === null ? undefined : toIso(row.claimed_until),
    };
  }

  async countByStatus(status: WebexInboxStatus): Promise<number> {
    const row = await this.db
      .selectFrom('webex_inbox')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', '=', status)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Deletes finished rows handled before `olderThan` (re-deliveries come within minutes); returns how many. */
  async pruneFinished(olderThan: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('webex_inbox')
      .where('status', 'in', ['handled', 'failed'])
      .where('handled_at', '<', olderThan.toISOString())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async liveCard(roomId: string): Promise<LiveCard | undefined> {
    const row = await this.db.selectFrom('webex_live_cards').selectAll().where('room_id', '=', roomId).executeTakeFirst();
    return row ? { roomId: row.room_id, messageId: row.message_id, step: row.step ?? undefined } : undefined;
  }

  async setLiveCard(card: LiveCard, at: Date): Promise<void> {
    await this.db
      .insertInto('webex_live_cards')
      .values({ room_id: card.roomId, message_id: card.messageId, step: card.step ?? null, posted_at: at.toISOString() })
      .onConflict((oc) =>
        oc.column('room_id').doUpdateSet((eb) => ({
          message_id: eb.ref('excluded.message_id'),
          step: eb.ref('excluded.step'),
          posted_at: eb.ref('excluded.posted_at'),
        })),
      )
      .execute();
  }

  /** Forgets the space's live card, only if it is still `messageId` (a newer one stays). */
  async clearLiveCard(roomId: string, messageId: string): Promise<void> {
    await this.db.deleteFrom('webex_live_cards').where('room_id', '=', roomId).where('message_id', '=', messageId).execute();
  }
}
