/**
 * A turn's replies until the channel has them (migration 0012-bot-replies in src/storage/migrations/,
 * issue 15). The row is written by the turn's own commit, in the same batched statement (PostgreSQL)
 * or transaction (SQLite) as the conversation: `TurnCommit.replies`, through `keepTurnReplies`, the
 * batch turn writer the repository registers with the store. From then on it is the channel's outbox row:
 *
 * - `pending`: to be sent. The instance that ran the turn holds a claim on it from the commit
 *   (`claimed_by`, `claimed_until`) and sends right after; what it could not send gets a retry time,
 *   and a worker claims what is due on any instance (`dueConversations`, `claimConversation`).
 * - `sent`: the connector accepted every message of the row (or refused one for good).
 * - `answered`: the replies went back in the HTTP response (`expectReplies`); kept only so that a
 *   re-delivery of the activity is answered with the same replies.
 *
 * A conversation's pending rows are claimed together, oldest turn first, and on PostgreSQL not at
 * all while another instance holds a live claim on any of them: replies of one conversation go out
 * in order. Progress is recorded per message and only while the claim is held, so a claimant whose
 * lease expired never records over the one that took over. On SQLite one process owns the file
 * (README), so a claim by another worker id is from a process that died and is not waited for; in the
 * process the channel's per-conversation lock keeps the sender and the worker apart.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import type { Timestamp } from '../../storage/schema';
import type { Store, TurnCommit } from '../../storage/store';
import type { BatchTurnWriter, BatchedTurn } from '../../storage/turn-writers';
import { OwedReplies, PG_OWED_COLUMNS, SQLITE_OWED, owedOf, type Owed, type OwedRow } from './owed-replies';
import { ReplyMarks } from './reply-marks';

declare module '../../storage/turn-commit' {
  interface TurnCommit {
    /**
     * The turn's replies, kept until the channel has them. Written by the batched commit itself
     * (`keepTurnReplies`), so keeping them costs no statement of its own.
     */
    replies?: TurnReplies;
  }
}

export interface BotRepliesTable {
  conversation_key: string;
  turn: number;
  activity_key: string | null;
  locale: string;
  /** JSON text: the channel-neutral messages of the turn (the engine's RenderedMessage[]). */
  messages: string;
  state: string;
  /** Messages of the row the channel has taken (or refused for good), in order. */
  done: number;
  attempts: number;
  next_attempt_at: Timestamp | null;
  claimed_by: string | null;
  claimed_until: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
}

/** The tables, as `store.db.withTables<…>()` takes them. */
export type BotRepliesDatabase = {
  bot_replies: BotRepliesTable;
};

/** What a turn commits of its replies (`TurnCommit.replies`). */
export interface TurnReplies {
  /** `pending`: the channel sends them after the commit. `answered`: they go back in the response. */
  state: 'pending' | 'answered';
  locale: string;
  messages: readonly unknown[];
  /** pending: the sender that holds them from the commit on, and until when (ISO). */
  claimedBy?: string;
  claimedUntil?: string;
  /**
   * pending: set by the commit that stored them, read in its own statement (PostgreSQL) or
   * transaction (SQLite): what else the conversation owes. Unset when the commit could not say
   * (the channel then asks, `BotRepliesRepository.owed`).
   */
  owed?: Owed;
}

export type KeptRepliesState = 'pending' | 'sent' | 'answered';

/** One turn's kept replies. */
export interface KeptReplies {
  conversationKey: string;
  turn: number;
  /** `${channel}:${activityId}` of the activity the turn answered. */
  activityKey?: string;
  locale: string;
  messages: unknown[];
  state: KeptRepliesState;
  /** How many of `messages` the channel has taken. */
  done: number;
  attempts: number;
}

/** What this repository needs of the store. */
export type BotRepliesStore = Pick<Store, 'kind' | 'db' | 'registerTurnWriter'>;

const COLUMNS = ['conversation_key', 'turn', 'activity_key', 'locale', 'messages', 'state', 'done', 'attempts'] as const;

/** The row values a turn's commit writes, in the column order of both dialects' inserts. */
function rowOf(commit: TurnCommit): [string, number, string | null, string, string, string, string | null, string | null, string | null, string] {
  const r = commit.replies!;
  const c = commit.conversation;
  const pending = r.state === 'pending';
  return [
    c.key,
    c.turn,
    commit.activityKey ?? null,
    r.locale,
    JSON.stringify(r.messages),
    r.state,
    pending ? c.updatedAt : null,
    pending ? (r.claimedBy ?? null) : null,
    pending ? (r.claimedUntil ?? null) : null,
    c.updatedAt,
  ];
}

const INSERT_COLUMNS = 'conversation_key, turn, activity_key, locale, messages, state, next_attempt_at, claimed_by, claimed_until, created_at';
/** A row left by a conversation that retention deleted and that started again is replaced, never a conflict that fails the turn. */
const ON_CONFLICT = `on conflict (conversation_key, turn) do update set activity_key = excluded.activity_key, locale = excluded.locale,
  messages = excluded.messages, state = excluded.state, done = 0, attempts = 0, next_attempt_at = excluded.next_attempt_at,
  claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until, last_error = null, created_at = excluded.created_at`;

/**
 * SQLite: deletes the conversation's done rows of turns before `?`. The values are written `+?`: once
 * the file has statistics (`ANALYZE`, `PRAGMA optimize`), SQLite plans a statement again for every
 * new value bound to a bare `?` it can estimate from them (here both, on the primary key), so every
 * turn parsed and planned the delete anew: at 1M stored conversations the kept replies' writer cost
 * 79 µs more per turn than for a store without statistics (issue 19, bench/PROFILING.md). `+?` is the
 * same value, and the key still finds the rows (test/storage/sqlite-plans.test.ts).
 */
export const SQLITE_PRUNE = "delete from bot_replies where conversation_key = +? and turn < +? and state <> 'pending'";

/**
 * SQLite: the replies of a turn, written by the store's group commit on the transaction it has
 * open: the row, the conversation's done rows of earlier turns deleted, and for pending replies what
 * else the conversation owes (`TurnReplies.owed`), read on the page just written.
 */
function sqliteTurnReplies(db: BetterSqlite3.Database): (commit: TurnCommit) => void {
  const insert = db.prepare(`insert into bot_replies (${INSERT_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${ON_CONFLICT}`);
  const prune = db.prepare(SQLITE_PRUNE);
  const owed = db.prepare(SQLITE_OWED);
  return (commit) => {
    const replies = commit.replies;
    if (!replies) return;
    const { key, turn } = commit.conversation;
    prune.run(key, turn);
    insert.run(...rowOf(commit));
    if (replies.state === 'pending') replies.owed = optionalOwed(() => owedOf(owed.get(key, turn) as OwedRow));
  };
}

/** The answer is optional (the channel asks when it is missing): reading it never fails the turn. */
function optionalOwed(read: () => Owed): Owed | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL: CTEs for the store's batched turn statement, after its `saved` CTE, with the arrays of
 * `pgTurnRepliesParams` as parameters `$first`… (10 of them). Only saved turns write.
 */
function pgTurnRepliesCtes(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `replies as (
  insert into bot_replies (${INSERT_COLUMNS})
  select r.key, r.turn, r.activity_key, r.locale, r.messages, r.state, r.next_attempt_at, r.claimed_by, r.claimed_until, r.created_at
  from unnest(${p(0)}::text[], ${p(1)}::int[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::timestamptz[],
    ${p(7)}::text[], ${p(8)}::timestamptz[], ${p(9)}::timestamptz[])
    as r(key, turn, activity_key, locale, messages, state, next_attempt_at, claimed_by, claimed_until, created_at)
  where r.key in (select key from saved)
  ${ON_CONFLICT}
), replies_pruned as (
  delete from bot_replies b using unnest(${p(0)}::text[], ${p(1)}::int[]) as r(key, turn)
  where b.conversation_key = r.key and b.turn < r.turn and b.state <> 'pending' and r.key in (select key from saved)
), replies_owed as (
  select r.key, ${PG_OWED_COLUMNS}
  from unnest(${p(0)}::text[], ${p(1)}::int[], ${p(5)}::text[]) as r(key, turn, state)
  where r.state = 'pending' and r.key in (select key from saved)
)`;
}

/** The parameters of `pgTurnRepliesCtes`: one array per column, one element per turn with replies. */
function pgTurnRepliesParams(requests: readonly { commit: TurnCommit }[]): unknown[][] {
  const rows = requests.filter((r) => r.commit.replies).map((r) => rowOf(r.commit));
  return Array.from({ length: 10 }, (_, i) => rows.map((row) => row[i]));
}

/**
 * PostgreSQL: the commit statement reads back which of its pending turns' conversations owe replies
 * of other turns or kept notices (`replies_owed`, over the statement's snapshot: this turn's own row
 * is not among them, and the rows it prunes were done), and each such turn's replies learn it.
 */
const pgOwedResult = {
  columns: `coalesce((select array_agg(key) from replies_owed where replies), '{}') as owes_replies,
  coalesce((select array_agg(key) from replies_owed where notices), '{}') as owes_notices`,
  read(row: Record<string, unknown>, turns: readonly BatchedTurn[]): void {
    const saved = new Set(row.saved as string[]);
    const replies = new Set(row.owes_replies as string[]);
    const notices = new Set(row.owes_notices as string[]);
    for (const { commit } of turns) {
      const key = commit.conversation.key;
      if (commit.replies?.state === 'pending' && saved.has(key)) commit.replies.owed = { replies: replies.has(key), notices: notices.has(key) };
    }
  },
};

/** The batch turn writer for `TurnCommit.replies`, registered by every `BotRepliesRepository`. */
export const keepTurnReplies: BatchTurnWriter = {
  name: 'bot_replies',
  mode: 'batch',
  field: 'replies',
  sqlite: sqliteTurnReplies,
  // The conversation's kept rows, which the commit prunes and appends to.
  sqliteWarm: 'select count(*) from bot_replies where conversation_key = @key',
  pg: { params: 10, ctes: pgTurnRepliesCtes, values: pgTurnRepliesParams, result: pgOwedResult },
};

function toKept(row: Record<string, unknown>): KeptReplies {
  let messages: unknown[] = [];
  try {
    const parsed: unknown = JSON.parse(String(row.messages));
    if (Array.isArray(parsed)) messages = parsed;
  } catch {
    // An unreadable row has nothing to send: the channel records it as done.
  }
  return {
    conversationKey: String(row.conversation_key),
    turn: Number(row.turn),
    ...(row.activity_key ? { activityKey: String(row.activity_key) } : {}),
    locale: String(row.locale),
    messages,
    state: String(row.state) as KeptRepliesState,
    done: Number(row.done),
    attempts: Number(row.attempts),
  };
}

export class BotRepliesRepository {
  private readonly marks: ReplyMarks;
  private readonly owedReplies: OwedReplies;

  /** Registers `keepTurnReplies` with the store: from now on its turns may keep their replies. */
  constructor(private readonly store: BotRepliesStore) {
    store.registerTurnWriter(keepTurnReplies);
    // The store may not be open yet: the marks reach its connection when they are written.
    this.marks = new ReplyMarks(() => store.db as never, store.kind);
    this.owedReplies = new OwedReplies(() => store.db as never, store.kind);
  }

  /**
   * What else this conversation owes beyond `turn`'s replies (which its commit left claimed by the
   * turn's sender): pending replies of other turns, kept proactive notices. One read, so a turn
   * with nothing owed (nearly every turn) sends its replies without claiming anything.
   */
  owed(conversationKey: string, turn: number): Promise<Owed> {
    return this.owedReplies.ask(conversationKey, turn);
  }

  private get db() {
    return this.store.db.withTables<BotRepliesDatabase>();
  }

  /** Another worker's claim counts only on PostgreSQL (see the file's comment). */
  private get sharedStore(): boolean {
    return this.store.kind === 'postgres';
  }

  /** Every kept row of a conversation, oldest turn first (tests, diagnostics). */
  async ofConversation(conversationKey: string): Promise<KeptReplies[]> {
    const rows = await this.db.selectFrom('bot_replies').select(COLUMNS).where('conversation_key', '=', conversationKey).orderBy('turn').execute();
    return rows.map((r) => toKept(r as Record<string, unknown>));
  }

  /** The kept replies of the turn that answered `activityKey`, if they are still kept. */
  async forActivity(conversationKey: string, activityKey: string): Promise<KeptReplies[]> {
    const rows = await this.db
      .selectFrom('bot_replies')
      .select(COLUMNS)
      .where('conversation_key', '=', conversationKey)
      .where('activity_key', '=', activityKey)
      .orderBy('turn')
      .execute();
    return rows.map((r) => toKept(r as Record<string, unknown>));
  }

  /**
   * Conversations with pending replies that are due and not held by a live claim (on SQLite: not by
   * a live claim of this worker), most overdue first.
   */
  async dueConversations(opts: { workerId: string; now: Date; limit: number }): Promise<string[]> {
    const now = opts.now.toISOString();
    const rows = await this.db
      .selectFrom('bot_replies')
      .select('conversation_key')
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((w) =>
        w.or([
          w('claimed_by', 'is', null),
          w('claimed_until', '<', now),
          ...(this.sharedStore ? [] : [w('claimed_by', '<>', opts.workerId)]),
        ]),
      )
      .groupBy('conversation_key')
      .orderBy((eb) => eb.fn.min('next_attempt_at'))
      .limit(opts.limit)
      .execute();
    return rows.map((r) => r.conversation_key);
  }

  /**
   * Claims every pending row of the conversation for `workerId` until now + lease, oldest turn first.
   * PostgreSQL: none at all while another worker holds a live claim on any of them (the rows are
   * locked first, so two claimants never split a conversation). Returns the claimed rows.
   */
  async claimConversation(conversationKey: string, opts: { workerId: string; now: Date; leaseMs: number }): Promise<KeptReplies[]> {
    const now = opts.now.toISOString();
    const until = new Date(opts.now.getTime() + opts.leaseMs).toISOString();
    let rows: Record<string, unknown>[];
    if (this.sharedStore) {
      const result = await sql<Record<string, unknown>>`with locked as (
  select turn, claimed_by, claimed_until from bot_replies where conversation_key = ${conversationKey} and state = 'pending' for update
), held as (
  select 1 from locked where claimed_by is not null and claimed_by <> ${opts.workerId} and claimed_until >= ${now}::timestamptz
)
update bot_replies b set claimed_by = ${opts.workerId}, claimed_until = ${until}::timestamptz
from locked l
where b.conversation_key = ${conversationKey} and b.turn = l.turn and not exists (select 1 from held)
returning b.conversation_key, b.turn, b.activity_key, b.locale, b.messages, b.state, b.done, b.attempts`.execute(this.db);
      rows = result.rows;
    } else {
      rows = (await this.db
        .updateTable('bot_replies')
        .set({ claimed_by: opts.workerId, claimed_until: until })
        .where('conversation_key', '=', conversationKey)
        .where('state', '=', 'pending')
        .returning(COLUMNS)
        .execute()) as Record<string, unknown>[];
    }
    return rows.map(toKept).sort((a, b) => a.turn - b.turn);
  }

  /**
   * Records that the channel has taken `done` messages of the row; `finished`: all of them, the row
   * is sent and its claim ends. Only while `workerId` holds the claim; false when it no longer does.
   */
  async markDone(conversationKey: string, turn: number, workerId: string, done: number, finished: boolean): Promise<boolean> {
    return this.marks.mark({ conversationKey, turn, workerId, done, finished });
  }

  /** Ends the claim on rows that could not be sent now: one more attempt each, due again at `nextAttemptAt`. */
  async retryLater(conversationKey: string, turns: readonly number[], workerId: string, result: { error: string; nextAttemptAt: Date }): Promise<void> {
    if (!turns.length) return;
    await this.db
      .updateTable('bot_replies')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1) as never,
        next_attempt_at: result.nextAttemptAt.toISOString(),
        last_error: result.error.slice(0, 500),
        claimed_by: null,
        claimed_until: null,
      }))
      .where('conversation_key', '=', conversationKey)
      .where('turn', 'in', [...turns])
      .where('claimed_by', '=', workerId)
      .execute();
  }

  /** Gives up a claim without an attempt (another sender must go first): due again at once. */
  async release(conversationKey: string, turns: readonly number[], workerId: string, at: Date): Promise<void> {
    if (!turns.length) return;
    await this.db
      .updateTable('bot_replies')
      .set({ claimed_by: null, claimed_until: null, next_attempt_at: at.toISOString() })
      .where('conversation_key', '=', conversationKey)
      .where('turn', 'in', [...turns])
      .where('claimed_by', '=', workerId)
      .execute();
  }

  /** Pending rows (a gauge for operators). */
  async pendingCount(): Promise<number> {
    const row = await this.db
      .selectFrom('bot_replies')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('state', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
