/**
 * "Does this conversation owe anything beyond this turn's replies?" for every turn that asks in one
 * pass of the event loop, in one statement (issue 19: on PostgreSQL one round trip per turn was the
 * delivery path's largest cost after the commit). See `BotRepliesRepository.owed`.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type { StoreDialect } from '../../storage/migrations/types';
import { TickBatch, type Pending } from '../../storage/tick-batch';

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

const OWED = (source: string) => `select r.key as key, r.turn as turn,
  exists(select 1 from bot_replies b where b.conversation_key = r.key and b.state = 'pending' and b.turn <> r.turn) as replies,
  exists(select 1 from undelivered_replies u where u.conversation_key = r.key) as notices
from ${source}`;

const SQLITE = OWED(`(select json_extract(j.value, '$[0]') as key, json_extract(j.value, '$[1]') as turn from json_each(?) as j) as r`);
const POSTGRES = OWED('unnest($1::text[], $2::int[]) as r(key, turn)');

const truthy = (v: unknown): boolean => v === true || v === 1 || v === 1n || v === '1' || v === 't';
const keyOf = (a: Ask) => `${a.turn}:${a.conversationKey}`;

export class OwedReplies {
  private readonly batch = new TickBatch<Ask, Owed>((batch) => this.flush(batch));

  constructor(
    private readonly db: () => Kysely<unknown>,
    private readonly dialect: StoreDialect,
  ) {}

  ask(conversationKey: string, turn: number): Promise<Owed> {
    return this.batch.add({ conversationKey, turn });
  }

  private async flush(batch: Pending<Ask, Owed>[]): Promise<void> {
    const asks = batch.map((p) => p.item);
    const query =
      this.dialect === 'postgres'
        ? CompiledQuery.raw(POSTGRES, [asks.map((a) => a.conversationKey), asks.map((a) => a.turn)])
        : CompiledQuery.raw(SQLITE, [JSON.stringify(asks.map((a) => [a.conversationKey, a.turn]))]);
    try {
      const { rows } = await this.db().executeQuery<{ key: string; turn: number | string; replies: unknown; notices: unknown }>(query);
      const found = new Map(rows.map((r) => [keyOf({ conversationKey: r.key, turn: Number(r.turn) }), { replies: truthy(r.replies), notices: truthy(r.notices) }]));
      // A turn the answer left out (it cannot be) is treated as owing: the full path finds out.
      for (const p of batch) p.resolve(found.get(keyOf(p.item)) ?? { replies: true, notices: true });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
