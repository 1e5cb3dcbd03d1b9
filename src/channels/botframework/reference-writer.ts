/**
 * `keepConversationReference`: the batch turn writer for `TurnCommit.botReference`
 * (../../storage/turn-writers.ts). A conversation's reference (what a proactive message is sent with)
 * is written with the turn that brought it, by the batched commit itself: no write of its own before
 * the turn (issue 19), and never a reference stored for a turn that was not.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { pgJson } from '../../storage/pg-turn-sql';
import type { TurnCommit } from '../../storage/turn-commit';
import type { BatchTurnWriter, BatchedTurn } from '../../storage/turn-writers';

declare module '../../storage/turn-commit' {
  interface TurnCommit {
    /** The conversation's reference, when its route is new to the conversation (`TurnOptions.marked`): stored (replacing any) with the turn. */
    botReference?: { channel: string; reference: Record<string, unknown> };
  }
}

/**
 * A reference already stored as it is (a returning person this process had forgotten) is left alone:
 * no row rewritten, nothing for the log to carry. `updated_at` is when it last changed.
 */
const ON_CONFLICT = `on conflict (conversation_key) do update set channel = excluded.channel, reference = excluded.reference, updated_at = excluded.updated_at
  where conversation_references.reference is distinct from excluded.reference or conversation_references.channel is distinct from excluded.channel`;

const UPSERT = `insert into conversation_references (conversation_key, channel, reference, updated_at) values (?, ?, ?, ?)
  ${ON_CONFLICT}`;

function sqliteReference(db: BetterSqlite3.Database): (commit: TurnCommit) => void {
  const upsert = db.prepare(UPSERT);
  return (commit) => {
    const kept = commit.botReference;
    if (kept) upsert.run(commit.conversation.key, kept.channel, JSON.stringify(kept.reference), commit.conversation.updatedAt);
  };
}

/** Parameter `$first`: the references of the batch's turns (JSON); only saved turns write. */
function pgReferenceCtes(first: number): string {
  return `bot_reference as (
  insert into conversation_references (conversation_key, channel, reference, updated_at)
  select r.key, r.channel, r.reference, r.updated_at
  from jsonb_to_recordset($${first}::jsonb) as r(key text, channel text, reference jsonb, updated_at timestamptz)
  where r.key in (select key from saved)
  ${ON_CONFLICT}
)`;
}

function pgReferenceParams(turns: readonly BatchedTurn[]): string[] {
  const rows: object[] = [];
  for (const { commit } of turns) {
    const kept = commit.botReference;
    if (kept) rows.push({ key: commit.conversation.key, channel: kept.channel, reference: kept.reference, updated_at: commit.conversation.updatedAt });
  }
  return [pgJson(rows)];
}

/** Registered by every `BotConversationsRepository`. */
export const keepConversationReference: BatchTurnWriter = {
  name: 'bot_reference',
  mode: 'batch',
  field: 'botReference',
  sqlite: sqliteReference,
  pg: { params: 1, ctes: pgReferenceCtes, values: pgReferenceParams },
};
