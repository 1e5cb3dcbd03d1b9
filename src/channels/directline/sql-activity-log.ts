/**
 * The Direct Line activity log in the bot's own store (migration 0003-directline), on SQLite and
 * PostgreSQL alike: a conversation started in the browser survives a restart of the server, and a
 * reload of the page after it shows the whole history.
 *
 * Sequence numbers: each append reads the conversation's highest `seq` and inserts the next ones in
 * one transaction. On PostgreSQL the transaction first locks the conversation's row, so appenders of one
 * conversation (several instances included) go one after another and numbers become visible in order,
 * without gaps; a primary-key collision (which that lock prevents) would be retried. The same
 * transaction drops what falls beyond the conversation's newest `maxActivities` (a range delete on the
 * primary key), and records each bot card's key (`card_key`, migration 0010) for `findCard`.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { cardKeyOf, MAX_LOGGED_ACTIVITIES, type ActivityLog, type DirectLineConversation, type LoggedActivity, type SecretRotation } from './activity-log';
import type { DirectLineActivity } from './protocol';

interface DirectLineConversationsTable {
  id: string;
  secret_hash: string;
  user_id: string;
  locale: string | null;
  created_at: Date | string;
  secret_issued_at: Date | string | null;
  previous_secret_hash: string | null;
  previous_secret_until: Date | string | null;
  site_key: string | null;
}

interface DirectLineActivitiesTable {
  conversation_id: string;
  seq: number;
  client_activity_id: string | null;
  card_key: string | null;
  activity: unknown;
  created_at: Date | string;
}

interface DirectLineDatabase {
  directline_conversations: DirectLineConversationsTable;
  directline_activities: DirectLineActivitiesTable;
}

/** What this log needs of the store (`SqlStore` has it). */
export interface SqlStoreHandle {
  readonly kind: 'sqlite' | 'postgres';
  // The store's own table types do not matter here; the log declares its own.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly db: Kysely<any>;
}

/** Whether the bot's store is a SQL one (Direct Line then keeps its conversations and quotas in it). */
export function isSqlStore(store: object | undefined): store is SqlStoreHandle {
  const s = store as Partial<SqlStoreHandle> | undefined;
  return (s?.kind === 'sqlite' || s?.kind === 'postgres') && typeof s.db === 'object' && s.db !== null;
}

const storedActivity = z.looseObject({ id: z.string(), type: z.string(), timestamp: z.string() });
const MAX_APPEND_ATTEMPTS = 8;

function toIso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export interface SqlActivityLogOptions {
  /** Activities kept per conversation (default MAX_LOGGED_ACTIVITIES); older ones are dropped. */
  maxActivities?: number;
}

export class SqlActivityLog implements ActivityLog {
  private readonly maxActivities: number;

  constructor(
    private readonly store: SqlStoreHandle,
    options: SqlActivityLogOptions = {},
  ) {
    this.maxActivities = Math.max(1, options.maxActivities ?? MAX_LOGGED_ACTIVITIES);
  }

  private get db(): Kysely<DirectLineDatabase> {
    return this.store.db as Kysely<DirectLineDatabase>;
  }

  private json(value: unknown): string {
    return JSON.stringify(value);
  }

  private parse(value: unknown): DirectLineActivity {
    const raw = typeof value === 'string' ? JSON.parse(value) : value;
    return storedActivity.parse(raw) as DirectLineActivity;
  }

  async createConversation(c: DirectLineConversation): Promise<void> {
    await this.db
      .insertInto('directline_conversations')
      .values({
        id: c.id,
        secret_hash: c.secretHash,
        user_id: c.userId,
        locale: c.locale ?? null,
        created_at: c.createdAt,
        secret_issued_at: c.secretIssuedAt ?? c.createdAt,
        previous_secret_hash: c.previousSecretHash ?? null,
        previous_secret_until: c.previousSecretUntil ?? null,
        site_key: c.siteKey ?? null,
      })
      .execute();
  }

  async getConversation(id: string): Promise<DirectLineConversation | undefined> {
    const row = await this.db.selectFrom('directline_conversations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const createdAt = toIso(row.created_at);
    // Null: written by an instance from before migration 0010 (a rolling upgrade), issued when created.
    const issuedAt = row.secret_issued_at === null ? createdAt : toIso(row.secret_issued_at);
    return {
      id: row.id,
      secretHash: row.secret_hash,
      userId: row.user_id,
      ...(row.locale ? { locale: row.locale } : {}),
      createdAt,
      ...(issuedAt !== createdAt ? { secretIssuedAt: issuedAt } : {}),
      ...(row.previous_secret_hash && row.previous_secret_until
        ? { previousSecretHash: row.previous_secret_hash, previousSecretUntil: toIso(row.previous_secret_until) }
        : {}),
      ...(row.site_key !== null ? { siteKey: row.site_key } : {}),
    };
  }

  async rotateSecret(id: string, r: SecretRotation): Promise<boolean> {
    const result = await this.db
      .updateTable('directline_conversations')
      .set({
        secret_hash: r.secretHash,
        secret_issued_at: r.issuedAt,
        previous_secret_hash: r.previousSecretHash,
        previous_secret_until: r.previousSecretUntil,
        site_key: r.siteKey,
      })
      .where('id', '=', id)
      .where('secret_hash', '=', r.expectedHash)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async append(conversationId: string, count: number, build: (seq: number, index: number) => DirectLineActivity): Promise<LoggedActivity[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          // PostgreSQL: appends to one conversation queue up on its row, across instances too. SQLite has
          // one writer at a time anyway.
          if (this.store.kind === 'postgres') {
            await trx.selectFrom('directline_conversations').select('id').where('id', '=', conversationId).forUpdate().execute();
          }
          const top = await trx
            .selectFrom('directline_activities')
            .select((eb) => eb.fn.max('seq').as('top'))
            .where('conversation_id', '=', conversationId)
            .executeTakeFirst();
          const first = Number(top?.top ?? 0) + 1;
          const out: LoggedActivity[] = [];
          for (let i = 0; i < count; i += 1) out.push({ seq: first + i, activity: build(first + i, i) });
          if (!out.length) return out;
          const now = new Date().toISOString();
          await trx
            .insertInto('directline_activities')
            .values(
              out.map((e) => ({
                conversation_id: conversationId,
                seq: e.seq,
                client_activity_id: clientActivityId(e.activity) ?? null,
                card_key: cardKeyOf(e.activity) ?? null,
                activity: this.json(e.activity),
                created_at: now,
              })),
            )
            .execute();
          const oldestKept = first + count - this.maxActivities;
          if (oldestKept > 1) {
            await trx.deleteFrom('directline_activities').where('conversation_id', '=', conversationId).where('seq', '<', oldestKept).execute();
          }
          return out;
        });
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= MAX_APPEND_ATTEMPTS) throw err;
      }
    }
  }

  async since(conversationId: string, after: number, limit: number): Promise<LoggedActivity[]> {
    const rows = await this.db
      .selectFrom('directline_activities')
      .select(['seq', 'activity'])
      .where('conversation_id', '=', conversationId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ seq: Number(r.seq), activity: this.parse(r.activity) }));
  }

  async findByClientActivityId(conversationId: string, id: string): Promise<LoggedActivity | undefined> {
    const row = await this.db
      .selectFrom('directline_activities')
      .select(['seq', 'activity'])
      .where('conversation_id', '=', conversationId)
      .where('client_activity_id', '=', id)
      .orderBy('seq')
      .executeTakeFirst();
    return row && { seq: Number(row.seq), activity: this.parse(row.activity) };
  }

  async findCard(conversationId: string, key: string): Promise<LoggedActivity | undefined> {
    const row = await this.db
      .selectFrom('directline_activities')
      .select(['seq', 'activity'])
      .where('conversation_id', '=', conversationId)
      .where('card_key', '=', key)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { seq: Number(row.seq), activity: this.parse(row.activity) };
  }
}

function clientActivityId(activity: DirectLineActivity): string | undefined {
  const id = activity.channelData?.clientActivityID;
  return typeof id === 'string' ? id : undefined;
}
