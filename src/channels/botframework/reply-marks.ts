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
  /** All of them: the row is sent, and deleted. */
  finished: boolean;
}

/**
 * The statement for a batch of marks, given its rows' source (`… as r`). A finished row is deleted:
 * nothing reads a sent row again (a re-delivery is answered from the pending ones, and `answered`
 * rows are never marked), so keeping it cost a second row version of the whole reply, its WAL, and
 * the next turn's prune on a page long cold (issue 19). An unfinished row counts its messages.
 *
 * On PostgreSQL each row is found by its key (a lateral subquery the planner cannot flatten), then
 * written by its address: as a join, the plan made while the table was small scanned every row, the
 * dead ones of each turn's write too, for every batch (issue 19). The claim is checked on the row
 * written, so a row taken over meanwhile is left alone. No other condition may join the two (an
 * equality of keys would let the planner hash-join a scan again); the address alone cannot be hashed.
 */
export function markStatement(dialect: StoreDialect, rows: string, finished: boolean): string {
  const returning = 'returning bot_replies.conversation_key as key, bot_replies.turn as turn';
  if (dialect === 'postgres') {
    const located = `(select b.tid, r.* from ${rows}
  cross join lateral (select b.ctid as tid from bot_replies b where b.conversation_key = r.key and b.turn = r.turn offset 0) b) r`;
    const where = 'where bot_replies.ctid = r.tid and bot_replies.claimed_by = r.worker';
    return finished ? `delete from bot_replies using ${located}\n${where}\n${returning}` : `update bot_replies set done = r.done\nfrom ${located}\n${where}\n${returning}`;
  }
  if (finished) {
    // SQLite's delete takes no join: the rows' keys and claimants as a row-value list, by the primary key.
    return `delete from bot_replies where (conversation_key, turn, claimed_by) in (select r.key, r.turn, r.worker from ${rows})\n${returning}`;
  }
  return `update bot_replies set done = r.done
from ${rows}
where bot_replies.conversation_key = r.key and bot_replies.turn = r.turn and bot_replies.claimed_by = r.worker
${returning}`;
}

type MarkedRow = { key: string; turn: number | string };

/** A row of `bot_replies` as a request and as returned: its key. */
export const replyRowKey = (r: { conversationKey: string; turn: number | string }) => `${Number(r.turn)}:${r.conversationKey}`;

export class ReplyMarks {
  /** Rows with messages still to send, and finished rows: one statement each per pass of the event loop. */
  private readonly counted: BatchedRows<DoneMark, MarkedRow>;
  private readonly finished: BatchedRows<DoneMark, MarkedRow>;

  constructor(db: () => Kysely<unknown>, dialect: StoreDialect) {
    const spec = (finished: boolean) =>
      new BatchedRows<DoneMark, MarkedRow>(db, dialect, {
        columns: [
          { name: 'key', pgType: 'text' },
          { name: 'turn', pgType: 'int' },
          { name: 'worker', pgType: 'text' },
          { name: 'done', pgType: 'int' },
        ],
        values: (m) => [m.conversationKey, m.turn, m.workerId, m.done],
        statement: (rows) => markStatement(dialect, rows, finished),
        keyOf: replyRowKey,
        rowKey: (r) => replyRowKey({ conversationKey: r.key, turn: r.turn }),
        // Two marks of one row (its messages one after the other) are written in order, never in one statement.
        onePerKey: true,
      });
    this.counted = spec(false);
    this.finished = spec(true);
  }

  /**
   * Records the mark; true while `workerId` held the row's claim (false: taken over, nothing written).
   * The marks of one row are made one after another (each awaited), so the two statements never race.
   */
  async mark(mark: DoneMark): Promise<boolean> {
    return (await (mark.finished ? this.finished : this.counted).run(mark)) !== undefined;
  }
}
