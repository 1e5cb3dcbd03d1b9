/**
 * The records that the connector took a kept reply (`markDone`, ./replies-repository.ts), written
 * together: every record asked for in one pass of the event loop goes in one statement
 * (src/storage/batched-rows.ts), so fifty conversations answered at once cost one write, not fifty
 * (issue 19: the per-message update was one write transaction per turn on SQLite and one round trip
 * on PostgreSQL). Each record still learns whether its claim held.
 */
import type { Kysely } from 'kysely';
import { BatchedRows } from '../../storage/batched-rows';
import type { StoreDialect } from '../../storage/migrations/types';

export interface DoneMark {
  conversationKey: string;
  turn: number;
  workerId: string;
  /** Messages of the row the channel has taken. */
  done: number;
  /** All of them: the row is sent and its claim ends. */
  finished: boolean;
}

/** What a finished row becomes; an unfinished one only counts its messages. */
const SET = `done = r.done,
  state = case when r.finished = 1 then 'sent' else state end,
  next_attempt_at = case when r.finished = 1 then null else next_attempt_at end,
  claimed_by = case when r.finished = 1 then null else claimed_by end,
  claimed_until = case when r.finished = 1 then null else claimed_until end,
  last_error = case when r.finished = 1 then null else last_error end`;

/**
 * The update for a batch of marks, given its rows' source (`… as r`). On PostgreSQL each row is found
 * by its key (a lateral subquery the planner cannot flatten), then updated by its address: as a join,
 * the plan made while the table was small scanned every row, the dead ones of each turn's update too,
 * for every batch (issue 19). The claim is checked on the row updated, so a row taken over meanwhile
 * is not written. No other condition may join the two (an equality of keys would let the planner
 * hash-join a scan again); the address alone cannot be hashed.
 */
export function markStatement(dialect: StoreDialect, rows: string): string {
  if (dialect === 'postgres') {
    return `update bot_replies set ${SET}
from (select b.tid, r.* from ${rows}
  cross join lateral (select b.ctid as tid from bot_replies b where b.conversation_key = r.key and b.turn = r.turn offset 0) b) r
where bot_replies.ctid = r.tid and bot_replies.claimed_by = r.worker
returning bot_replies.conversation_key as key, bot_replies.turn as turn`;
  }
  return `update bot_replies set ${SET}
from ${rows}
where bot_replies.conversation_key = r.key and bot_replies.turn = r.turn and bot_replies.claimed_by = r.worker
returning bot_replies.conversation_key as key, bot_replies.turn as turn`;
}

/** A row of `bot_replies` as a request and as returned: its key. */
export const replyRowKey = (r: { conversationKey: string; turn: number | string }) => `${Number(r.turn)}:${r.conversationKey}`;

export class ReplyMarks {
  private readonly rows: BatchedRows<DoneMark, { key: string; turn: number | string }>;

  constructor(db: () => Kysely<unknown>, dialect: StoreDialect) {
    this.rows = new BatchedRows<DoneMark, { key: string; turn: number | string }>(db, dialect, {
      columns: [
        { name: 'key', pgType: 'text' },
        { name: 'turn', pgType: 'int' },
        { name: 'worker', pgType: 'text' },
        { name: 'done', pgType: 'int' },
        { name: 'finished', pgType: 'int' },
      ],
      values: (m) => [m.conversationKey, m.turn, m.workerId, m.done, m.finished ? 1 : 0],
      statement: (rows) => markStatement(dialect, rows),
      keyOf: replyRowKey,
      rowKey: (r) => replyRowKey({ conversationKey: r.key, turn: r.turn }),
      // Two marks of one row (its messages one after the other) are written in order, never in one statement.
      onePerKey: true,
    });
  }

  /** Records the mark; true while `workerId` held the row's claim (false: taken over, nothing written). */
  async mark(mark: DoneMark): Promise<boolean> {
    return (await this.rows.run(mark)) !== undefined;
  }
}
