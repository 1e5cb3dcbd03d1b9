/**
 * The records that the connector took a kept reply (`markDone`, ./replies-repository.ts), written
 * together: every record asked for in one pass of the event loop goes in one statement, so fifty
 * conversations answered at once cost one write, not fifty (issue 19: the per-message update was
 * one write transaction per turn on SQLite and one round trip on PostgreSQL). Each record still
 * learns whether its claim held. Both statements are fixed texts, prepared once (SQLite's statement
 * cache, PostgreSQL by the same text), and skip Kysely's query builder on this hot path.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type { StoreDialect } from '../../storage/migrations/types';
import { TickBatch, type Pending } from '../../storage/tick-batch';

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

const SQLITE = `update bot_replies set ${SET}
from (select json_extract(j.value, '$[0]') as key, json_extract(j.value, '$[1]') as turn, json_extract(j.value, '$[2]') as worker,
  json_extract(j.value, '$[3]') as done, json_extract(j.value, '$[4]') as finished from json_each(?) as j) as r
where bot_replies.conversation_key = r.key and bot_replies.turn = r.turn and bot_replies.claimed_by = r.worker
returning bot_replies.conversation_key as key, bot_replies.turn as turn`;

const POSTGRES = `update bot_replies set ${SET}
from unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::int[]) as r(key, turn, worker, done, finished)
where bot_replies.conversation_key = r.key and bot_replies.turn = r.turn and bot_replies.claimed_by = r.worker
returning bot_replies.conversation_key as key, bot_replies.turn as turn`;

const keyOf = (m: Pick<DoneMark, 'conversationKey' | 'turn'>) => `${m.turn}:${m.conversationKey}`;

export class ReplyMarks {
  private readonly batch = new TickBatch<DoneMark, boolean>((batch) => this.flush(batch), keyOf);

  constructor(
    private readonly db: () => Kysely<unknown>,
    private readonly dialect: StoreDialect,
  ) {}

  /** Records the mark; true while `workerId` held the row's claim (false: taken over, nothing written). */
  mark(mark: DoneMark): Promise<boolean> {
    return this.batch.add(mark);
  }

  private async flush(batch: Pending<DoneMark, boolean>[]): Promise<void> {
    const marks = batch.map((p) => p.item);
    const query =
      this.dialect === 'postgres'
        ? CompiledQuery.raw(POSTGRES, [
            marks.map((m) => m.conversationKey),
            marks.map((m) => m.turn),
            marks.map((m) => m.workerId),
            marks.map((m) => m.done),
            marks.map((m) => (m.finished ? 1 : 0)),
          ])
        : CompiledQuery.raw(SQLITE, [JSON.stringify(marks.map((m) => [m.conversationKey, m.turn, m.workerId, m.done, m.finished ? 1 : 0]))]);
    try {
      const { rows } = await this.db().executeQuery<{ key: string; turn: number | string }>(query);
      const held = new Set(rows.map((r) => keyOf({ conversationKey: r.key, turn: Number(r.turn) })));
      for (const p of batch) p.resolve(held.has(keyOf(p.item)));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
