/**
 * `writeFollowups`: the batch turn writer for `TurnCommit.followups` (../storage/turn-writers.ts).
 * About one turn in eight has follow-up rows (an ending's offer accepted, the next message cancelling
 * it), so they are written by the batched commit itself instead of sending such a turn to a
 * transaction of its own (issue 19).
 *
 * In a turn: its cancellations first (every pending follow-up of the conversation; a follow-up
 * accepted in the same turn stays pending), then the follow-ups it accepted, then its answers. On
 * SQLite three prepared statements in that order; on PostgreSQL three CTEs of the batch statement,
 * which all see the rows as they were before it: a new follow-up is thus out of reach of the
 * cancellation as on SQLite, and an answer to a row the statement cancels or inserts is written by
 * that cancellation or insert (two CTEs must not update one row).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { z } from 'zod';
import { caseIntakeInput, type CaseIntakeInput } from '../../dialogs/support-case/case-draft';
import { pgJson } from '../storage/pg-turn-sql';
import type { TurnCommit } from '../storage/turn-commit';
import type { BatchTurnWriter, BatchedTurn } from '../storage/turn-writers';
import type { FollowupEnding } from '../../dialogs/followup/contract';

declare module '../storage/turn-commit' {
  interface TurnCommit {
    /** Follow-ups accepted, cancelled or answered in this turn (written by `writeFollowups`). */
    followups?: FollowupWrites;
  }
}

export interface NewFollowup {
  id: string;
  conversationKey: string;
  ending: FollowupEnding;
  channel: string;
  mode: 'self' | 'agent';
  hours: number;
  dueAt: string;
  intake?: CaseIntakeInput;
  createdAt: string;
}

export type CancelReason = 'wrote' | 'stopped';

export interface FollowupWrites {
  scheduled?: NewFollowup[];
  /** Every pending follow-up of the conversation is cancelled. */
  cancelled?: { conversationKey: string; reason: CancelReason; at: string }[];
  answered?: { id: string; answer: 'arrived' | 'not_arrived' }[];
}

/** `followups.data`: what the guide knew, for a case if the email never came. */
export const followupData = z.object({ intake: caseIntakeInput.optional() });

/** The `data` a new follow-up stores (throws, failing the turn, when the intake is not one). */
const dataOf = (f: NewFollowup) => followupData.parse({ intake: f.intake });

/** `+?`: planned once, whatever the statistics (see the kept replies' prune, src/channels/botframework/replies-repository.ts). */
function sqliteFollowups(db: BetterSqlite3.Database): (commit: TurnCommit) => void {
  const cancel = db.prepare(`update followups set status = 'cancelled', cancel_reason = ?, settled_at = ?, data = null, claimed_by = null,
  claimed_until = null where conversation_key = +? and status = 'pending'`);
  const insert = db.prepare(`insert into followups (id, conversation_key, ending, channel, mode, hours, status, due_at, attempts, data, created_at)
  values (?, ?, ?, ?, ?, ?, 'pending', ?, 0, ?, ?)`);
  const answer = db.prepare('update followups set answer = ? where id = ?');
  return (commit) => {
    const writes = commit.followups;
    if (!writes) return;
    for (const c of writes.cancelled ?? []) cancel.run(c.reason, c.at, c.conversationKey);
    for (const f of writes.scheduled ?? []) {
      insert.run(f.id, f.conversationKey, f.ending, f.channel, f.mode, f.hours, f.dueAt, JSON.stringify(dataOf(f)), f.createdAt);
    }
    for (const a of writes.answered ?? []) answer.run(a.answer, a.id);
  };
}

/** Rows of a JSON parameter, each with the turn (`owner`) it belongs to, in the order given (`n`). */
const rowsOf = (param: string, columns: string, alias: string, names: string) =>
  `rows from (jsonb_to_recordset(${param}::jsonb) as (owner text, ${columns})) with ordinality as ${alias}(owner, ${names}, n)`;

/**
 * Parameters `$first`: cancellations, `+1`: new follow-ups, `+2`: answers (JSON). A turn cancels
 * once per conversation (its first reason, as the second finds nothing pending on SQLite) and the
 * last answer to a follow-up stands.
 *
 * The two updates run only when their document has rows (`<> '[]'`, a condition the executor checks
 * once before touching the table): most batches have none, and the plan made while the table was
 * small joins by scanning it, which every batch paid, more as the table grew (issue 19).
 */
function pgFollowupsCtes(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `followups_answers as (
  select distinct on (a.id) a.id, a.answer from ${rowsOf(p(2), 'id text, answer text', 'a', 'id, answer')}
  where a.owner in (select key from saved)
  order by a.id, a.n desc
), followups_cancelled as (
  update followups f set status = 'cancelled', cancel_reason = c.reason, settled_at = c.at, data = null, claimed_by = null, claimed_until = null,
    answer = coalesce((select a.answer from followups_answers a where a.id = f.id), f.answer)
  from (
    select distinct on (c.conversation_key) c.conversation_key, c.reason, c.at
    from ${rowsOf(p(0), 'conversation_key text, reason text, at timestamptz', 'c', 'conversation_key, reason, at')}
    where c.owner in (select key from saved)
    order by c.conversation_key, c.n
  ) c
  where f.conversation_key = c.conversation_key and f.status = 'pending' and ${p(0)}::jsonb <> '[]'::jsonb
  returning f.id
), followups_scheduled as (
  insert into followups (id, conversation_key, ending, channel, mode, hours, status, due_at, attempts, data, answer, created_at)
  select s.id, s.conversation_key, s.ending, s.channel, s.mode, s.hours, 'pending', s.due_at, 0, s.data, s.answer, s.created_at
  from ${rowsOf(
    p(1),
    'id text, conversation_key text, ending text, channel text, mode text, hours real, due_at timestamptz, data jsonb, answer text, created_at timestamptz',
    's',
    'id, conversation_key, ending, channel, mode, hours, due_at, data, answer, created_at',
  )}
  where s.owner in (select key from saved)
  order by s.n
), followups_answered as (
  update followups f set answer = a.answer from followups_answers a
  where f.id = a.id and f.id not in (select id from followups_cancelled) and ${p(2)}::jsonb <> '[]'::jsonb
)`;
}

function pgFollowupsParams(turns: readonly BatchedTurn[]): string[] {
  const cancelled: object[] = [];
  const scheduled: object[] = [];
  const answered: object[] = [];
  for (const { commit } of turns) {
    const writes = commit.followups;
    if (!writes) continue;
    const owner = commit.conversation.key;
    // The last answer the turn gives to a follow-up it also accepts goes in with the new row.
    const answers = new Map((writes.answered ?? []).map((a) => [a.id, a.answer]));
    for (const c of writes.cancelled ?? []) cancelled.push({ owner, conversation_key: c.conversationKey, reason: c.reason, at: c.at });
    for (const f of writes.scheduled ?? []) {
      scheduled.push({
        owner,
        id: f.id,
        conversation_key: f.conversationKey,
        ending: f.ending,
        channel: f.channel,
        mode: f.mode,
        hours: f.hours,
        due_at: f.dueAt,
        data: dataOf(f),
        answer: answers.get(f.id) ?? null,
        created_at: f.createdAt,
      });
    }
    for (const a of writes.answered ?? []) answered.push({ owner, id: a.id, answer: a.answer });
  }
  return [pgJson(cancelled), pgJson(scheduled), pgJson(answered)];
}

/** The turn writer for `TurnCommit.followups`, registered by every `FollowupsRepository`. */
export const writeFollowups: BatchTurnWriter = {
  name: 'followups',
  mode: 'batch',
  field: 'followups',
  sqlite: sqliteFollowups,
  pg: { params: 3, ctes: pgFollowupsCtes, values: pgFollowupsParams },
};
