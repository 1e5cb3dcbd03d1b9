/**
 * Table types of the tables this folder's migrations create, and the small column helpers both
 * dialects need (timestamps come back as Date from PostgreSQL and as text from SQLite; JSON comes
 * back parsed from PostgreSQL jsonb and as text from SQLite).
 *
 * Another area's repository declares its own tables and widens the store's Kysely instance:
 * `store.db.withTables<{ cases: CasesTable }>()`.
 */
import { sql, type ColumnType, type Generated } from 'kysely';

/** Written as an ISO-8601 string; read as a Date (PostgreSQL timestamptz) or a string (SQLite). */
export type Timestamp = ColumnType<Date | string, string, string>;
/** Written as JSON text; read as a parsed value (PostgreSQL jsonb) or JSON text (SQLite). */
export type Json = ColumnType<unknown, string, string>;

export interface ConversationsTable {
  key: string;
  channel: string;
  flow_id: string;
  flow_version: number;
  snapshot: Json;
  parents: Json;
  locale: string;
  turn: number;
  user_id: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Keys of the latest activities, newest last, one per line (./turn-sql.ts); written only by turns. */
  recent_activities: ColumnType<string, string | undefined, string>;
  /** The channel's mark of what it stored beside the conversation (migration 0020). */
  channel_mark: ColumnType<string, string | undefined, string>;
  /** UTC day of the last turn (days since 1970-01-01), written when it changes; retention's index (migration 0023). */
  active_day: ColumnType<number, number | undefined, number>;
}

export interface TranscriptEntriesTable {
  id: Generated<number | string>;
  conversation_key: string;
  at: Timestamp;
  sender: string;
  text: string;
}

/** Re-delivery marks before migration 0009; no longer written, pruned until a later migration drops it. */
export interface ProcessedActivitiesTable {
  key: string;
  created_at: Timestamp;
}

export interface UserLocalesTable {
  user_key: string;
  locale: string;
  updated_at: Timestamp;
}

/** Funnel events carry no personal data: no names, emails, free text or user ids. */
export interface FunnelEventsTable {
  id: Generated<number | string>;
  at: Timestamp;
  conversation_key: string;
  channel: string;
  locale: string;
  mode: string;
  kind: string;
  step: string;
  value: string | null;
}

/**
 * A kind `funnel_events_run_edges` holds (migration 0022), written as a literal: a PostgreSQL generic
 * plan cannot tell that a bound `$1` is one of the index's kinds, and would read the whole table.
 */
export const indexedFunnelKind = (kind: 'started' | 'outcome') => sql.lit(kind);

export interface Database {
  conversations: ConversationsTable;
  transcript_entries: TranscriptEntriesTable;
  processed_activities: ProcessedActivitiesTable;
  user_locales: UserLocalesTable;
  funnel_events: FunnelEventsTable;
}

/**
 * `toISOString()`'s own form, for a day every month has: such a string is returned as it is, without
 * the Date round trip (most of what SQLite returns, and every row read back as it was written).
 */
const ISO_UTC = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** A timestamp column value as an ISO-8601 string, whichever dialect produced it. */
export function toIso(value: Date | string): string {
  if (value instanceof Date) return value.toISOString();
  return ISO_UTC.test(value) ? value : new Date(value).toISOString();
}

/** A JSON column value as a JS value, whichever dialect produced it. */
export function fromJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}
