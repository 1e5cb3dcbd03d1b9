/**
 * Per-conversation state of the Bot Framework channel (migration 0007-bot-conversations in
 * src/storage/migrations/): the conversation reference a proactive message (and the kept replies
 * worker) is sent with, and proactive notices the connector did not take (kept so the
 * conversation's next turn shows them first). The reference is written with the turn that brought it
 * when it is new or has changed (./reference-writer.ts); a notice after its send failed. A turn's own replies are kept with the turn since
 * migration 0012 (./replies-repository.ts); this table gets them only where that is not used.
 */
import type { Generated, Kysely } from 'kysely';
import { z } from 'zod';
import { fromJson, type Json, type Timestamp } from '../../storage/schema';
import type { Store } from '../../storage/store';
import { keepConversationReference } from './reference-writer';

export interface ConversationReferencesTable {
  conversation_key: string;
  channel: string;
  reference: Json;
  updated_at: Timestamp;
}

export interface UndeliveredRepliesTable {
  id: Generated<number | string>;
  conversation_key: string;
  activity: Json;
  created_at: Timestamp;
}

/** The tables, as `store.db.withTables<…>()` takes them. */
export type BotConversationsDatabase = {
  conversation_references: ConversationReferencesTable;
  undelivered_replies: UndeliveredRepliesTable;
};


/** A kept reply: its row id (to remove it once it went out) and the activity as it was to be sent. */
export interface UndeliveredReply {
  id: string;
  activity: Record<string, unknown>;
}

const jsonObject = z.record(z.string(), z.unknown());

export class BotConversationsRepository {
  constructor(private readonly store: Pick<Store, 'kind' | 'db' | 'registerTurnWriter'>) {
    // A turn's new or changed reference is written with the turn (./reference-writer.ts).
    store.registerTurnWriter(keepConversationReference);
  }

  private get db() {
    return this.store.db.withTables<BotConversationsDatabase>();
  }

  async findReference(conversationKey: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.db
      .selectFrom('conversation_references')
      .select('reference')
      .where('conversation_key', '=', conversationKey)
      .executeTakeFirst();
    return row ? jsonObject.parse(fromJson(row.reference)) : undefined;
  }

  /** Keeps replies that could not be sent, in order, after any kept earlier. */
  async keepUndelivered(conversationKey: string, activities: Record<string, unknown>[], at: Date): Promise<void> {
    if (!activities.length) return;
    await this.db
      .insertInto('undelivered_replies')
      .values(activities.map((a) => ({ conversation_key: conversationKey, activity: JSON.stringify(a), created_at: at.toISOString() })))
      .execute();
  }

  /** The conversation's kept replies, oldest first (at most `limit`). */
  async undelivered(conversationKey: string, limit = 50): Promise<UndeliveredReply[]> {
    const rows = await this.db
      .selectFrom('undelivered_replies')
      .select(['id', 'activity'])
      .where('conversation_key', '=', conversationKey)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: String(r.id), activity: jsonObject.parse(fromJson(r.activity)) }));
  }

  /** Forgets kept replies that have now been sent. */
  async removeUndelivered(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    await this.db
      .deleteFrom('undelivered_replies')
      .where('id', 'in', ids.map((id) => (this.store.kind === 'sqlite' ? Number(id) : id)))
      .execute();
  }
}
