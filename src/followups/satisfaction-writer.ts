/**
 * `writeSatisfaction`: the batch turn writer for `TurnCommit.satisfaction` (../storage/turn-writers.ts).
 * Every ending offers "did this help?", so ratings are written by the batched commit itself instead
 * of sending such a turn to a transaction of its own (issue 19).
 *
 * In a turn: its ratings, then its comments. On SQLite two prepared statements in that order; on
 * PostgreSQL two CTEs of the batch statement, which see the rows as they were before it, so a comment
 * on a rating of the same turn goes in with the rating's row.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { pgJson } from '../storage/pg-turn-sql';
import type { TurnCommit } from '../storage/turn-commit';
import type { BatchTurnWriter, BatchedTurn } from '../storage/turn-writers';

function sqliteSatisfaction(db: BetterSqlite3.Database): (commit: TurnCommit) => void {
  const rate = db.prepare(`insert into satisfaction (id, flow, ending, outcome, locale, channel, mode, rating, comment, at)
  values (?, ?, ?, ?, ?, ?, ?, ?, null, ?)`);
  const comment = db.prepare('update satisfaction set comment = ? where id = ?');
  return (commit) => {
    const writes = commit.satisfaction;
    if (!writes) return;
    for (const r of writes.rated ?? []) rate.run(r.id, r.flow, r.ending, r.outcome, r.locale, r.channel, r.mode, r.rating, r.at);
    for (const c of writes.commented ?? []) comment.run(c.comment, c.id);
  };
}

/**
 * Parameters `$first`: ratings, `+1`: comments (JSON); the last comment on a rating stands. The
 * update runs only when there are comments (see pgFollowupsCtes of ./followups-writer.ts).
 */
function pgSatisfactionCtes(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `satisfaction_rated as (
  insert into satisfaction (id, flow, ending, outcome, locale, channel, mode, rating, comment, at)
  select r.id, r.flow, r.ending, r.outcome, r.locale, r.channel, r.mode, r.rating, r.comment, r.at
  from rows from (jsonb_to_recordset(${p(0)}::jsonb) as (owner text, id text, flow text, ending text, outcome text, locale text, channel text,
    mode text, rating text, comment text, at timestamptz)) with ordinality as r(owner, id, flow, ending, outcome, locale, channel, mode, rating, comment, at, n)
  where r.owner in (select key from saved)
  order by r.n
), satisfaction_commented as (
  update satisfaction s set comment = c.comment
  from (
    select distinct on (c.id) c.id, c.comment
    from rows from (jsonb_to_recordset(${p(1)}::jsonb) as (owner text, id text, comment text)) with ordinality as c(owner, id, comment, n)
    where c.owner in (select key from saved)
    order by c.id, c.n desc
  ) c
  where s.id = c.id and ${p(1)}::jsonb <> '[]'::jsonb
)`;
}

function pgSatisfactionParams(turns: readonly BatchedTurn[]): string[] {
  const rated: object[] = [];
  const commented: object[] = [];
  for (const { commit } of turns) {
    const writes = commit.satisfaction;
    if (!writes) continue;
    const owner = commit.conversation.key;
    const comments = new Map((writes.commented ?? []).map((c) => [c.id, c.comment]));
    for (const r of writes.rated ?? []) rated.push({ owner, ...r, comment: comments.get(r.id) ?? null });
    for (const c of writes.commented ?? []) commented.push({ owner, id: c.id, comment: c.comment });
  }
  return [pgJson(rated), pgJson(commented)];
}

/** The turn writer for `TurnCommit.satisfaction`, registered by every `SatisfactionRepository`. */
export const writeSatisfaction: BatchTurnWriter = {
  name: 'satisfaction',
  mode: 'batch',
  field: 'satisfaction',
  sqlite: sqliteSatisfaction,
  pg: { params: 2, ctes: pgSatisfactionCtes, values: pgSatisfactionParams },
};
