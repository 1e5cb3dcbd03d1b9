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

export type OwedRow = { replies: unknown; notices: unknown };
type AskedRow = OwedRow & { key: string; turn: number | string };

const truthy = (v: unknown): boolean => v === true || v === 1 || v === 1n || v === '1' || v === 't';

/** The answer a statement's row gives. */
export const owedOf = (row: OwedRow): Owed => ({ replies: truthy(row.replies), notices: truthy(row.notices) });

/**
 * The answer's two columns for a conversation `r.key` whose turn `r.turn` is being answered. By the
 * conversation's own rows (the primary key), not the partial index of every pending row: the
 * PostgreSQL planner took that one (few rows, it thinks), and read every pending row, dead ones too,
 * for each turn; `state || ''` is not the index's predicate (issue 19). The notices by their
 * conversation's index too: PostgreSQL's plan for a new, empty table otherwise scans every kept
 * notice (hashed into each statement, or once per turn), and notices pile up exactly when the
 * connector is away; ordered as the index is and fenced (`offset 0`), the plan reads the index
 * (test/storage/pg-turn-plans.test.ts).
 */
function owedColumns(dialect: StoreDialect): string {
  return `exists(select 1 from bot_replies b where b.conversation_key = r.key and (b.state || '') = 'pending' and b.turn <> r.turn) as replies,
  exists(select 1 from undelivered_replies u where u.conversation_key = r.key${dialect === 'postgres' ? ' order by u.conversation_key, u.id offset 0' : ''}) as notices`;
}

/** The columns in PostgreSQL's commit statement (src/channels/botframework/replies-repository.ts). */
export const PG_OWED_COLUMNS = owedColumns('postgres');

/** The answer for each of the rows `… as r(key, turn)`. */
export function owedStatement(dialect: StoreDialect, rows: string): string {
  return `select r.key as key, r.turn as turn, ${owedColumns(dialect)}
from ${rows}`;
}

/**
 * SQLite, one conversation (key, turn), read by the commit that keeps the turn's replies: the same
 * columns over a row of its values (`+?`: planned once whatever the statistics, see SQLITE_PRUNE).
 */
export const SQLITE_OWED = `select ${owedColumns('sqlite')} from (select +? as key, +? as turn) as r`;

export class OwedReplies {
  private readonly rows: BatchedRows<Ask, AskedRow>;

  constructor(db: () => Kysely<unknown>, dialect: StoreDialect) {
    this.rows = new BatchedRows<Ask, AskedRow>(db, dialect, {
      columns: [
        { name: 'key', pgType: 'text' },
        { name: 'turn', pgType: 'int' },
      ],
      values: (a) => [a.conversationKey, a.turn],
      statement: (rows) => owedStatement(dialect, rows),
      keyOf: replyRowKey,
      rowKey: (r) => replyRowKey({ conversationKey: r.key, turn: r.turn }),
    });
  }

  async ask(conversationKey: string, turn: number): Promise<Owed> {
    const row = await this.rows.run({ conversationKey, turn });
    // A turn the answer left out (it cannot be) is treated as owing: the full path finds out.
    return row ? owedOf(row) : { replies: true, notices: true };
  }
}
