/**
 * PostgreSQL turns in batches. Turns that load or commit in the same pass of the event loop share one
 * statement: all the loads in one `select` (one row per turn), all the commits in one statement of
 * data-modifying CTEs fed by arrays. A turn thus costs two statements shared with its neighbours
 * instead of two to six of its own (README "Performance"). Both are named (prepared once per
 * connection), so the server parses and plans them once.
 *
 * A batch commit is atomic as one statement, and each turn in it is checked on its own: a turn whose
 * activity is already processed (`DuplicateActivityError`) or whose conversation already has its
 * turn or a newer one (`ConcurrentTurnError`: another instance got there first) writes nothing, the
 * others are committed. A statement that fails for any other reason is retried turn by turn, so one
 * bad turn fails alone; so is a batched load: a failure of one turn never fails another. When the
 * connection is lost with the statement sent, whether it committed is read back before anything is
 * retried, so no turn is written twice and none is lost silently.
 *
 * The batch turn writers' rows (./turn-writers.ts) are CTEs of the same statement. Turns with rows
 * for a transaction turn writer run the same statement for themselves inside a transaction
 * (`commitOneInTransaction`), with the writers after it.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import { ConcurrentTurnError, DuplicateActivityError, StorageUnavailableError, isConnectionError, isStaleConnectionError } from './errors';
import type { Database } from './schema';
import type { TurnCommit } from './store';
import { TickBatch, type Pending } from './tick-batch';
import type { BatchTurnWriter } from './turn-writers';
import { CONVERSATION_COLUMNS, PG_RECENT_ACTIVITIES_APPEND, conversationUpsert, recentActivityKey } from './turn-sql';

export interface TurnLoadRequest {
  conversationKey: string;
  userKey: string;
  activityKey?: string;
}

interface CommitRequest {
  commit: TurnCommit;
  now: string;
}

export interface PgTurnBatchOptions {
  /** The pool, or undefined once the store is closed. */
  pool: () => pg.Pool | undefined;
  /** How many times a statement may meet a dead pooled connection before the error counts. */
  staleRetries: number;
  wrap: (op: string, err: unknown) => Error;
  /** The store's batch turn writers now (a new array whenever one is registered). */
  writers: () => readonly BatchTurnWriter[];
}

/** The commit statement for one set of batch writers; its name differs when its text does (pg prepares by name). */
interface CommitStatement {
  writers: readonly BatchTurnWriter[];
  name: string;
  text: string;
}

/** Statements of a batch, as `{ saved, dup }` key lists. */
interface CommitResult {
  saved: string[];
  dup: string[];
}

export class PgTurnBatch {
  private readonly loads = new TickBatch<TurnLoadRequest, Record<string, unknown>>((batch) => this.flushLoads(batch));
  private readonly commits = new TickBatch<CommitRequest, void>(
    (batch) => this.flushCommits(batch),
    (r) => r.commit.conversation.key,
  );
  /** Statements run and turns in them (for tests and the bench). */
  readonly stats = { loadStatements: 0, commitStatements: 0, turnsCommitted: 0, largestCommit: 0 };
  private statement?: CommitStatement;

  constructor(private readonly opts: PgTurnBatchOptions) {}

  /** The row `loadTurn` reads: `user_locale` and the conversation's columns (null when new). */
  load(request: TurnLoadRequest): Promise<Record<string, unknown>> {
    return this.loads.add(request);
  }

  commit(commit: TurnCommit, now: string): Promise<void> {
    return this.commits.add({ commit, now });
  }

  /** One turn's rows in the caller's transaction; throws when the turn is refused (the caller rolls back). */
  async commitOneInTransaction(trx: Kysely<Database>, commit: TurnCommit, now: string): Promise<void> {
    const statement = this.commitStatement();
    const { rows } = await trx.executeQuery<CommitResult>(CompiledQuery.raw(statement.text, commitParams([{ commit, now }], statement.writers)));
    const error = refusal(commit, rows[0] ?? { saved: [], dup: [] });
    if (error) throw error;
  }

  private async flushLoads(batch: Pending<TurnLoadRequest, Record<string, unknown>>[]): Promise<void> {
    const values = [batch.map((p) => p.item.conversationKey), batch.map((p) => p.item.userKey)];
    try {
      const { rows } = await this.query<Record<string, unknown>>('pce_load_turns', LOAD_TURNS_PG, values);
      this.stats.loadStatements++;
      batch.forEach((p, i) => {
        const row = rows[i];
        if (row) p.resolve(row);
        else p.reject(new Error('the database returned no row for a turn'));
      });
    } catch (err) {
      if (batch.length > 1 && mayBeOneTurnsFault(err)) {
        // One turn's bad key fails the statement: each turn again on its own, so it fails alone.
        await Promise.all(batch.map((p) => this.flushLoads([p])));
        return;
      }
      const wrapped = this.opts.wrap('load a turn', err);
      for (const p of batch) p.reject(wrapped);
    }
  }

  private async flushCommits(batch: Pending<CommitRequest, void>[], resolvingLostConnection = false): Promise<void> {
    let result: CommitResult;
    try {
      const { name, text, writers } = this.commitStatement();
      const { rows } = await this.pool().query<CommitResult>({ name, text, values: commitParams(batch.map((p) => p.item), writers) });
      result = rows[0] ?? { saved: [], dup: [] };
    } catch (err) {
      if (isConnectionError(err) && !resolvingLostConnection) return this.afterLostConnection(batch, err);
      if (batch.length > 1 && mayBeOneTurnsFault(err)) {
        // One turn's bad data fails the statement: each turn again on its own, so it fails alone.
        await Promise.all(batch.map((p) => this.flushCommits([p], resolvingLostConnection)));
        return;
      }
      const wrapped = this.opts.wrap('commit a turn', err);
      for (const p of batch) p.reject(wrapped);
      return;
    }
    this.stats.commitStatements++;
    this.stats.largestCommit = Math.max(this.stats.largestCommit, batch.length);
    for (const p of batch) {
      const error = refusal(p.item.commit, result);
      if (error) p.reject(error);
      else {
        this.stats.turnsCommitted++;
        p.resolve();
      }
    }
  }

  /**
   * The connection went away with the statement sent: it committed entirely or not at all. Read back
   * which turns stand stored exactly as sent. None: run the batch again (once; had it committed with
   * every turn refused, it refuses them again). Some: it committed; the others were refused, and
   * their turns run again on what is stored (the engine retries a `ConcurrentTurnError`).
   */
  private async afterLostConnection(batch: Pending<CommitRequest, void>[], lost: unknown): Promise<void> {
    const conversations = batch.map((p) => p.item.commit.conversation);
    let stored: Set<string>;
    try {
      const { rows } = await this.query<{ key: string }>('pce_turns_landed', TURNS_LANDED_PG, [
        conversations.map((c) => c.key),
        conversations.map((c) => c.turn),
        conversations.map((c) => c.updatedAt),
      ]);
      stored = new Set(rows.map((r) => r.key));
    } catch {
      const err = new StorageUnavailableError(
        `Could not commit a turn: the database connection was lost and whether the turn was stored is unknown (${(lost as Error).message})`,
        undefined,
        { cause: lost },
      );
      for (const p of batch) p.reject(err);
      return;
    }
    if (stored.size === 0) return this.flushCommits(batch, true);
    for (const p of batch) {
      const c = p.item.commit.conversation;
      if (stored.has(c.key)) {
        this.stats.turnsCommitted++;
        p.resolve();
      } else p.reject(new ConcurrentTurnError(c.key, c.turn));
    }
  }

  /** A named statement on a pooled connection, again on the next connection when a pooled one was dead. */
  private async query<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    for (let n = 0; ; n++) {
      try {
        return await this.pool().query<R>({ name, text, values });
      } catch (err) {
        if (n >= this.opts.staleRetries || !isStaleConnectionError(err)) throw err;
      }
    }
  }

  private commitStatement(): CommitStatement {
    const writers = this.opts.writers();
    if (this.statement?.writers !== writers) {
      this.statement = { writers, name: ['pce_commit_turns', ...writers.map((w) => w.name)].join('_'), text: commitTurnsSql(writers) };
    }
    return this.statement;
  }

  private pool(): pg.Pool {
    const pool = this.opts.pool();
    if (!pool) throw new StorageUnavailableError('The store is closed.');
    return pool;
  }
}

/**
 * Whether a failed batch statement may have failed for one turn's data (a NUL byte, a value out of
 * range, a constraint), so its turns are worth running one by one. Not when the connection went, nor
 * for SQLSTATE classes 53 (insufficient resources) and 57 (a statement timeout, a shutdown): those
 * fail every turn alike, and running each alone would only add load to a database in trouble.
 */
function mayBeOneTurnsFault(err: unknown): boolean {
  if (isConnectionError(err)) return false;
  const code = (err as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && /^5[37]/.test(code));
}

function refusal(commit: TurnCommit, result: CommitResult): Error | undefined {
  const key = commit.conversation.key;
  if (result.saved.includes(key)) return undefined;
  if (commit.activityKey && result.dup.includes(key)) return new DuplicateActivityError(commit.activityKey);
  return new ConcurrentTurnError(key, commit.conversation.turn);
}

/** The statement's parameters for these turns: one array per column (see commitTurnsSql). */
function commitParams(requests: CommitRequest[], writers: readonly BatchTurnWriter[]): unknown[] {
  const conversations = requests.map((r) => r.commit.conversation);
  const col = <T>(pick: (c: (typeof conversations)[number], i: number) => T) => conversations.map(pick);
  const transcript = requests.flatMap((r) => r.commit.transcript.map((e) => ({ owner: r.commit.conversation.key, e })));
  const locales = requests.flatMap((r) => (r.commit.userLocale ? [{ owner: r.commit.conversation.key, now: r.now, l: r.commit.userLocale }] : []));
  const funnel = requests.flatMap((r) => (r.commit.funnel ?? []).map((f) => ({ owner: r.commit.conversation.key, f })));
  return [
    col((c) => c.key),
    col((c) => c.channel),
    col((c) => c.flowId),
    col((c) => c.flowVersion),
    col((c) => JSON.stringify(c.snapshot ?? null)),
    col((c) => JSON.stringify(c.parents)),
    col((c) => c.locale),
    col((c) => c.turn),
    col((c) => c.userId),
    col((c) => c.createdAt),
    col((c) => c.updatedAt),
    requests.map((r) => (r.commit.activityKey ? recentActivityKey(r.commit.activityKey) : null)),
    requests.map((r) => r.now),
    transcript.map((t) => t.owner),
    transcript.map((t) => t.e.at),
    transcript.map((t) => t.e.from),
    transcript.map((t) => t.e.text),
    locales.map((l) => l.owner),
    locales.map((l) => l.l.userKey),
    locales.map((l) => l.l.locale),
    locales.map((l) => l.now),
    funnel.map((x) => x.owner),
    funnel.map((x) => x.f.at),
    funnel.map((x) => x.f.conversationKey),
    funnel.map((x) => x.f.channel),
    funnel.map((x) => x.f.locale),
    funnel.map((x) => x.f.mode),
    funnel.map((x) => x.f.kind),
    funnel.map((x) => x.f.step),
    funnel.map((x) => x.f.value ?? null),
    // $31…: the batch writers' parameters, in the order of their CTEs.
    ...writers.flatMap((w) => {
      const values = w.pg.values(requests);
      if (values.length !== w.pg.params) throw new Error(`turn writer ${w.name} gave ${values.length} parameters, not ${w.pg.params}`);
      return values;
    }),
  ];
}

/** Parameters of the statement before the batch writers'. */
const OWN_PARAMS = 30;

/** The user's language and the conversation (all columns, its recent activities too), one row per turn in order. */
const LOAD_TURNS_PG = `select
  (select u.locale from user_locales u where u.user_key = r.user_key) as user_locale,
  c.*
from unnest($1::text[], $2::text[]) with ordinality as r(conversation_key, user_key, n)
left join conversations c on c.key = r.conversation_key
order by r.n`;

/**
 * Every turn of a batch in one statement. `dup`: turns whose activity the conversation already
 * recorded (nothing of them is written); `saved`: turns whose conversation was saved, because it moved
 * past the stored turn (the upsert's `where`, evaluated on the latest committed row, so two instances
 * racing on one conversation cannot both win), with the activity appended to its recent ones. Only
 * saved turns get their transcript, language and funnel rows, and the batch writers' rows.
 */
function commitTurnsSql(writers: readonly BatchTurnWriter[]): string {
  let next = OWN_PARAMS + 1;
  const ctes = writers.map((w) => {
    const sql = w.pg.ctes(next);
    next += w.pg.params;
    return `, ${sql}`;
  });
  return `with input as (
  select * from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::int[],
    $9::text[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::timestamptz[])
    as i(key, channel, flow_id, flow_version, snapshot, parents, locale, turn, user_id, created_at, updated_at, activity_key, now)
), dup as (
  select i.key from input i join conversations c on c.key = i.key
  where i.activity_key is not null and strpos(E'\\n' || c.recent_activities || E'\\n', E'\\n' || i.activity_key || E'\\n') > 0
), saved as (
  insert into conversations (${CONVERSATION_COLUMNS})
  select i.key, i.channel, i.flow_id, i.flow_version, i.snapshot::jsonb, i.parents::jsonb, i.locale, i.turn, i.user_id, i.created_at, i.updated_at,
    coalesce(i.activity_key, '')
  from input i where i.key not in (select key from dup)
  order by i.key
  ${conversationUpsert(PG_RECENT_ACTIVITIES_APPEND)}
  returning key
), transcript as (
  insert into transcript_entries (conversation_key, at, sender, text)
  select e.conversation_key, e.at, e.sender, e.text
  from unnest($14::text[], $15::timestamptz[], $16::text[], $17::text[]) with ordinality as e(conversation_key, at, sender, text, n)
  where e.conversation_key in (select key from saved)
  order by e.n
), locale as (
  insert into user_locales (user_key, locale, updated_at)
  select distinct on (l.user_key) l.user_key, l.locale, l.now
  from unnest($18::text[], $19::text[], $20::text[], $21::timestamptz[]) with ordinality as l(owner, user_key, locale, now, n)
  where l.owner in (select key from saved)
  order by l.user_key, l.n desc
  on conflict (user_key) do update set locale = excluded.locale, updated_at = excluded.updated_at
), funnel as (
  insert into funnel_events (at, conversation_key, channel, locale, mode, kind, step, value)
  select f.at, f.conversation_key, f.channel, f.locale, f.mode, f.kind, f.step, f.value
  from unnest($22::text[], $23::timestamptz[], $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::text[], $30::text[])
    with ordinality as f(owner, at, conversation_key, channel, locale, mode, kind, step, value, n)
  where f.owner in (select key from saved)
  order by f.n
)${ctes.join('')}
select coalesce((select array_agg(key) from saved), '{}') as saved, coalesce((select array_agg(key) from dup), '{}') as dup`;
}

/** The turns stored exactly as a lost statement sent them. */
const TURNS_LANDED_PG = `select c.key from conversations c
join unnest($1::text[], $2::int[], $3::timestamptz[]) as i(key, turn, updated_at)
  on c.key = i.key and c.turn = i.turn and c.updated_at = i.updated_at`;
