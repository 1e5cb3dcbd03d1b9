/**
 * Stored rows read back as the store's types, on both dialects (timestamps are Date on PostgreSQL and
 * text on SQLite; JSON is parsed on PostgreSQL and text on SQLite). What cannot be read is replaced by
 * a default the engine handles politely, never thrown at the person.
 */
import { z } from 'zod';
import type { Locale } from '../../dialogs/flow';
import type { Logger } from '../log';
import { fromJson, toIso } from './schema';
import type { ConversationState, TranscriptEntry } from './store';

export const localeSchema = z.enum(['en', 'uk']) satisfies z.ZodType<Locale>;
const timestampSchema = z.union([z.date(), z.string()]).transform(toIso);
const parentsSchema = z.array(z.object({ flowId: z.string(), flowVersion: z.number().int(), snapshot: z.unknown() }));
const conversationRow = z.object({
  key: z.string(),
  channel: z.string(),
  flow_id: z.string(),
  flow_version: z.coerce.number().int(),
  snapshot: z.unknown(),
  parents: z.unknown(),
  locale: z.string(),
  turn: z.coerce.number().int(),
  user_id: z.string(),
  created_at: timestampSchema,
  updated_at: timestampSchema,
});
const transcriptRow = z.object({ at: timestampSchema, sender: z.enum(['user', 'bot']), text: z.string() });

/** A stored language, or undefined when there is none or it is not one of ours. */
export function toLocale(value: unknown): Locale | undefined {
  const parsed = localeSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export function toConversation(key: string, row: unknown, logger: Logger): ConversationState {
  const r = conversationRow.parse(row);
  const locale = localeSchema.safeParse(r.locale);
  const parents = parentsSchema.safeParse(safeJson(r.parents));
  if (!locale.success || !parents.success) logger.warn({ conversation: key }, 'stored conversation has an invalid locale or parents; using defaults');
  return {
    key: r.key,
    channel: r.channel,
    flowId: r.flow_id,
    flowVersion: r.flow_version,
    // An unreadable snapshot becomes null: the engine's validation restarts the conversation politely.
    snapshot: safeJson(r.snapshot),
    parents: parents.success ? parents.data : [],
    locale: locale.success ? locale.data : 'en',
    turn: r.turn,
    userId: r.user_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toTranscriptEntry(row: unknown): TranscriptEntry {
  const r = transcriptRow.parse(row);
  return { at: r.at, from: r.sender, text: r.text };
}

function safeJson(value: unknown): unknown {
  try {
    return fromJson(value);
  } catch {
    return null;
  }
}
