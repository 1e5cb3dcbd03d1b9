/**
 * Stored rows read back as the store's types, on both dialects (timestamps are Date on PostgreSQL and
 * text on SQLite; JSON is parsed on PostgreSQL and text on SQLite). What cannot be read is replaced by
 * a default the engine handles politely, never thrown at the person.
 *
 * Checked by hand rather than with zod: every turn reads its conversation row, and the schema walk
 * cost more than the checks themselves (issue 19).
 */
import type { Locale } from '../../dialogs/flow';
import type { Logger } from '../log';
import { StorageError } from './errors';
import { fromJson, toIso } from './schema';
import type { ConversationState, TranscriptEntry } from './store';

type Row = Record<string, unknown>;

/** A stored language, or undefined when there is none or it is not one of ours. */
export function toLocale(value: unknown): Locale | undefined {
  return value === 'en' || value === 'uk' ? value : undefined;
}

export function toConversation(key: string, row: unknown, logger: Logger): ConversationState {
  const r = asRow(row, 'conversation');
  const locale = toLocale(text(r, 'locale'));
  const parents = toParents(safeJson(r.parents));
  if (!locale || !parents) logger.warn({ conversation: key }, 'stored conversation has an invalid locale or parents; using defaults');
  return {
    key: text(r, 'key'),
    channel: text(r, 'channel'),
    flowId: text(r, 'flow_id'),
    flowVersion: integer(r, 'flow_version'),
    // An unreadable snapshot becomes null: the engine's validation restarts the conversation politely.
    snapshot: safeJson(r.snapshot),
    parents: parents ?? [],
    locale: locale ?? 'en',
    turn: integer(r, 'turn'),
    userId: text(r, 'user_id'),
    createdAt: timestamp(r, 'created_at'),
    updatedAt: timestamp(r, 'updated_at'),
    // Only when there is one ('' for none, as in rows stored before migration 0020).
    ...(typeof r.channel_mark === 'string' && r.channel_mark ? { channelMark: r.channel_mark } : {}),
  };
}

export function toTranscriptEntry(row: unknown): TranscriptEntry {
  const r = asRow(row, 'transcript entry');
  const from = r.sender;
  if (from !== 'user' && from !== 'bot') throw unreadable('transcript entry', 'sender');
  return { at: timestamp(r, 'at'), from, text: text(r, 'text') };
}

/** `parents` as stored, or undefined when it is not a list of flows. */
function toParents(value: unknown): ConversationState['parents'] | undefined {
  if (!Array.isArray(value)) return undefined;
  const parents: ConversationState['parents'] = [];
  for (const p of value as unknown[]) {
    if (typeof p !== 'object' || p === null) return undefined;
    const { flowId, flowVersion, snapshot } = p as Row;
    if (typeof flowId !== 'string' || !Number.isInteger(flowVersion)) return undefined;
    parents.push({ flowId, flowVersion: flowVersion as number, snapshot });
  }
  return parents;
}

function asRow(row: unknown, what: string): Row {
  if (typeof row !== 'object' || row === null) throw new StorageError(`A stored ${what} is unreadable: not a row.`);
  return row as Row;
}

function text(r: Row, column: string): string {
  const v = r[column];
  if (typeof v !== 'string') throw unreadable('row', column);
  return v;
}

/** An integer column; PostgreSQL's int8 may come back as a string or bigint. */
function integer(r: Row, column: string): number {
  const v = r[column];
  const n = typeof v === 'number' ? v : typeof v === 'string' || typeof v === 'bigint' ? Number(v) : Number.NaN;
  if (!Number.isInteger(n)) throw unreadable('row', column);
  return n;
}

function timestamp(r: Row, column: string): string {
  const v = r[column];
  if (typeof v !== 'string' && !(v instanceof Date)) throw unreadable('row', column);
  return toIso(v);
}

function unreadable(what: string, column: string): StorageError {
  return new StorageError(`A stored ${what} is unreadable: its ${column} is missing or of the wrong type.`);
}

function safeJson(value: unknown): unknown {
  try {
    return fromJson(value);
  } catch {
    return null;
  }
}
