/**
 * "Does this conversation owe anything beyond this turn's replies?" for every turn that asks in one
 * pass of the event loop, in one statement (src/storage/batched-rows.ts; issue 19: on PostgreSQL
 * one round trip per turn was the delivery path's largest cost after the commit). See
 * `BotRepliesRepository.owed`.
 */
import type { Kysely } from 'kysely';
import { BatchedRows } from '../../storage/batched-rows';
import type { StoreDialect } from '../../storage/migrations/types';
import { replyRowKey } from './reply-marks';

export interface Owed {
  /** Pending replies of other turns. */
  replies: boolean;
  /** Proactive notices the connector did not take. */
  notices: boolean;
}

interface Ask {
  conversationKey: string;
  turn: number;
}

type OwedRow = { key: string; turn: number | string; replies: unknown; notices: unknown };

const truthy = (v: unknown): boolean => v === true || v === 1 || v === 1n || v === '1' || v === 't';

export class OwedReplies {
  private readonly rows: BatchedRows<Ask, OwedRow>;

  constructor(db: () => Kysely<unknown>, dialect: StoreDialect) {
    this.rows = new BatchedRows<Ask, OwedRow>(db, dialect, {
      columns: [
        { name: 'key', pgType: 'text' },
        { name: 'turn', pgType: 'int' },
      ],
      values: (a) => [a.conversationKey, a.turn],
      // By the conversation's own rows (the primary key), not the partial index of every pending row:
      // the planner took that one (few rows, it thinks), and read every pending row, dead ones too,
      // for each turn; `state || ''` is not the index's predicate (issue 19).
      statement: (rows) => `select r.key as key, r.turn as turn,
  exists(select 1 from bot_replies b where b.conversation_key = r.key and (b.state || '') = 'pending' and b.turn <> r.turn) as replies,
  exists(select 1 from undelivered_replies u where u.conversation_key = r.key) as notices
from ${rows}`,
      keyOf: replyRowKey,
      rowKey: (r) => replyRowKey({ conversationKey: r.key, turn: r.turn }),
    });
  }

  async ask(conversationKey: string, turn: number): Promise<Owed> {
    const row = await this.rows.run({ conversationKey, turn });
    // A turn the answer left out (it cannot be) is treated as owing: the full path finds out.
    return row ? { replies: truthy(row.replies), notices: truthy(row.notices) } : { replies: true, notices: true };
  }
}
