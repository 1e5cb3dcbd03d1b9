/**
 * The Teams channel engineers take hand-offs in (migration 0018-handoff-channels): chosen by an agent
 * typing "use this channel for hand-offs" there, kept as the channel's conversation reference so a
 * restart or another instance posts requests to the same channel. Read at each use, never cached:
 * an instance learns of a new choice at once.
 */
import type { ConversationReference } from 'botbuilder';
import { z } from 'zod';
import { fromJson, type Json, type Timestamp } from '../../storage/schema';
import type { Store } from '../../storage/store';

export interface HandoffChannelsTable {
  space: string;
  reference: Json;
  chosen_by: string;
  chosen_at: Timestamp;
}

type HandoffChannelsDatabase = { handoff_channels: HandoffChannelsTable };

const SPACE = 'teams';
const reference = z.looseObject({ serviceUrl: z.string(), conversation: z.looseObject({ id: z.string().min(1) }) });

/** A Teams channel's base conversation id: a message in a reply chain carries `;messageid=<root>` after it. */
export function channelConversationId(conversationId: string): string {
  return conversationId.split(';')[0]!;
}

/** The root message of the reply chain a channel conversation id names, if it names one. */
export function threadRootOf(conversationId: string): string | undefined {
  return /;messageid=([^;]+)/.exec(conversationId)?.[1];
}

export class HandoffChannelsRepository {
  constructor(private readonly store: Pick<Store, 'db'>) {}

  private get db() {
    return this.store.db.withTables<HandoffChannelsDatabase>();
  }

  /** Chooses the channel (replacing an earlier choice). */
  async choose(ref: Partial<ConversationReference>, chosenBy: string, at: Date): Promise<void> {
    const row = { space: SPACE, reference: JSON.stringify(ref), chosen_by: chosenBy, chosen_at: at.toISOString() };
    await this.db
      .insertInto('handoff_channels')
      .values(row)
      .onConflict((oc) => oc.column('space').doUpdateSet({ reference: row.reference, chosen_by: row.chosen_by, chosen_at: row.chosen_at }))
      .execute();
  }

  /** The chosen channel's reference, if one was chosen. */
  async chosen(): Promise<Partial<ConversationReference> | undefined> {
    const row = await this.db.selectFrom('handoff_channels').select('reference').where('space', '=', SPACE).executeTakeFirst();
    if (!row) return undefined;
    const parsed = reference.safeParse(fromJson(row.reference));
    return parsed.success ? (parsed.data as unknown as Partial<ConversationReference>) : undefined;
  }
}
