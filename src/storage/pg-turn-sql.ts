/**
 * PostgreSQL's batched turn statements (./pg-turn-batch.ts) and their parameters.
 *
 * A batch's rows go to the commit statement as JSON documents, one per table, read with
 * `jsonb_to_recordset`, not as one array parameter per column read with `unnest`: pg encodes an array
 * parameter element by element in JS (escaping every quote of a snapshot's JSON text), whereas here a
 * turn's rows, snapshot and parents included as JSON values, are one `JSON.stringify` and the server
 * parses the snapshot once (issue 19).
 */
import type { BatchTurnWriter, BatchedTurn } from './turn-writers';
import { CONVERSATION_COLUMNS, PG_RECENT_ACTIVITIES_APPEND, activeDay, conversationUpsert, recentActivityKey } from './turn-sql';

/**
 * The user's language and the conversation (all columns, its recent activities too), one row per turn
 * in order; snapshot and parents only when the conversation is not stored at the turn the engine
 * already holds (`$3`, null for none): most turns continue a conversation this instance answered
 * last, and those columns are most of a row. Timestamps come back as `toISOString()` writes them (the
 * store writes milliseconds), so neither pg nor the store parses a date.
 *
 * Each conversation is read by its key, a lateral subquery the planner cannot flatten (`offset 0`):
 * as a join, the plan made once per connection while the table was small hash-joined a scan of
 * every conversation into each load, and kept doing so as the table grew (issue 19).
 */
export const LOAD_TURNS_PG = `select
  (select u.locale from user_locales u where u.user_key = r.user_key) as user_locale,
  c.key, c.channel, c.flow_id, c.flow_version,
  case when c.turn = r.known_turn then null else c.snapshot end as snapshot,
  case when c.turn = r.known_turn then null else c.parents end as parents, c.locale, c.turn, c.user_id,
  to_char(c.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
  to_char(c.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at,
  c.recent_activities, c.channel_mark
from unnest($1::text[], $2::text[], $3::int[]) with ordinality as r(conversation_key, user_key, known_turn, n)
left join lateral (select * from conversations c where c.key = r.conversation_key offset 0) c on true
order by r.n`;

/** The turns stored exactly as a lost statement sent them. */
export const TURNS_LANDED_PG = `select c.key from conversations c
join unnest($1::text[], $2::int[], $3::timestamptz[]) as i(key, turn, updated_at)
  on c.key = i.key and c.turn = i.turn and c.updated_at = i.updated_at`;

/** Parameters of the commit statement before the batch writers': the four JSON documents below. */
const OWN_PARAMS = 4;

/**
 * Every turn of a batch in one statement. `dup`: turns whose activity the conversation already
 * recorded (nothing of them is written), looked up key by key: a scalar subquery, which the planner
 * never turns into a join (it takes `jsonb_to_recordset` for 100 rows and, while the table was small,
 * hash-joined a scan of every conversation into each batch: most of the server's time per turn in
 * the bench, issue 19); `saved`: turns whose conversation was saved, because it moved
 * past the stored turn (the upsert's `where`, evaluated on the latest committed row, so two instances
 * racing on one conversation cannot both win), with the activity appended to its recent ones. Only
 * saved turns get their transcript, language and funnel rows, and the batch writers' rows.
 */
export function commitTurnsSql(writers: readonly BatchTurnWriter[]): string {
  let next = OWN_PARAMS + 1;
  const ctes = writers.map((w) => {
    const sql = w.pg.ctes(next);
    next += w.pg.params;
    return `, ${sql}`;
  });
  return `with input as (
  select * from jsonb_to_recordset($1::jsonb) as i(key text, channel text, flow_id text, flow_version int, snapshot jsonb, parents jsonb,
    locale text, turn int, user_id text, created_at timestamptz, updated_at timestamptz, activity_key text, channel_mark text, active_day int, now timestamptz)
), dup as (
  select i.key from input i
  where i.activity_key is not null
    and (select strpos(E'\\n' || c.recent_activities || E'\\n', E'\\n' || i.activity_key || E'\\n') > 0 from conversations c where c.key = i.key)
), saved as (
  insert into conversations (${CONVERSATION_COLUMNS})
  select i.key, i.channel, i.flow_id, i.flow_version, coalesce(i.snapshot, 'null'::jsonb), i.parents, i.locale, i.turn, i.user_id,
    i.created_at, i.updated_at, coalesce(i.activity_key, ''), coalesce(i.channel_mark, ''), i.active_day
  from input i where i.key not in (select key from dup)
  order by i.key
  ${conversationUpsert(PG_RECENT_ACTIVITIES_APPEND)}
  returning key
), transcript as (
  insert into transcript_entries (conversation_key, at, sender, text)
  select e.conversation_key, e.at, e.sender, e.text
  from rows from (jsonb_to_recordset($2::jsonb) as (conversation_key text, at timestamptz, sender text, text text)) with ordinality
    as e(conversation_key, at, sender, text, n)
  where e.conversation_key in (select key from saved)
  order by e.n
), locale as (
  insert into user_locales (user_key, locale, updated_at)
  select distinct on (l.user_key) l.user_key, l.locale, l.now
  from rows from (jsonb_to_recordset($3::jsonb) as (owner text, user_key text, locale text, now timestamptz)) with ordinality
    as l(owner, user_key, locale, now, n)
  where l.owner in (select key from saved)
  order by l.user_key, l.n desc
  on conflict (user_key) do update set locale = excluded.locale, updated_at = excluded.updated_at
), funnel as (
  insert into funnel_events (at, conversation_key, channel, locale, mode, kind, step, value)
  select f.at, f.conversation_key, f.channel, f.locale, f.mode, f.kind, f.step, f.value
  from rows from (jsonb_to_recordset($4::jsonb) as (owner text, at timestamptz, conversation_key text, channel text, locale text,
    mode text, kind text, step text, value text)) with ordinality as f(owner, at, conversation_key, channel, locale, mode, kind, step, value, n)
  where f.owner in (select key from saved)
  order by f.n
)${ctes.join('')}
select coalesce((select array_agg(key) from saved), '{}') as saved, coalesce((select array_agg(key) from dup), '{}') as dup${writers
    .flatMap((w) => (w.pg.result ? [`, ${w.pg.result.columns}`] : []))
    .join('')}`;
}

/** The commit statement's parameters for these turns: a JSON document per table, then the batch writers' (see commitTurnsSql). */
export function commitParams(requests: readonly BatchedTurn[], writers: readonly BatchTurnWriter[]): unknown[] {
  const turns: object[] = [];
  const transcript: object[] = [];
  const locales: object[] = [];
  const funnel: object[] = [];
  for (const { commit, now } of requests) {
    const c = commit.conversation;
    turns.push({
      key: c.key,
      channel: c.channel,
      flow_id: c.flowId,
      flow_version: c.flowVersion,
      snapshot: c.snapshot ?? null,
      parents: c.parents,
      locale: c.locale,
      turn: c.turn,
      user_id: c.userId,
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      activity_key: commit.activityKey ? recentActivityKey(commit.activityKey) : null,
      channel_mark: c.channelMark ?? '',
      active_day: activeDay(c.updatedAt),
      now,
    });
    for (const e of commit.transcript) transcript.push({ conversation_key: c.key, at: e.at, sender: e.from, text: e.text });
    if (commit.userLocale) locales.push({ owner: c.key, user_key: commit.userLocale.userKey, locale: commit.userLocale.locale, now });
    for (const f of commit.funnel ?? []) {
      funnel.push({
        owner: c.key,
        at: f.at,
        conversation_key: f.conversationKey,
        channel: f.channel,
        locale: f.locale,
        mode: f.mode,
        kind: f.kind,
        step: f.step,
        value: f.value ?? null,
      });
    }
  }
  return [
    pgJson(turns),
    pgJson(transcript),
    pgJson(locales),
    pgJson(funnel),
    // $5…: the batch writers' parameters, in the order of their CTEs.
    ...writers.flatMap((w) => {
      const values = w.pg.values(requests);
      if (values.length !== w.pg.params) throw new Error(`turn writer ${w.name} gave ${values.length} parameters, not ${w.pg.params}`);
      return values;
    }),
  ];
}

/** A `\ud800`…`\udfff` escape (not an escaped backslash and `ud…`): how JSON.stringify writes a lone surrogate, and only that. */
const LONE_SURROGATE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

/**
 * JSON text PostgreSQL accepts: a lone surrogate (a broken emoji a client sent) becomes U+FFFD, as
 * pg's UTF-8 encoding of a text parameter makes it, instead of failing the statement.
 */
export function pgJson(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\ud') ? text.replace(LONE_SURROGATE, '$1\\ufffd') : text;
}
