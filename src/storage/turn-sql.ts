/** SQL and helpers shared by both dialects' turn writes (./pg-turn-batch.ts, ./sqlite-group-commit.ts). */
import { createHash } from 'node:crypto';

export const CONVERSATION_COLUMNS =
  'key, channel, flow_id, flow_version, snapshot, parents, locale, turn, user_id, created_at, updated_at, recent_activities, channel_mark, active_day';

const DAY_MS = 86_400_000;

/** `conversations.active_day` for a turn at `updatedAt` (ISO): whole UTC days since 1970-01-01 (migration 0023). */
export function activeDay(updatedAt: string): number {
  return Math.floor(Date.parse(updatedAt) / DAY_MS);
}

/**
 * The conversation upsert: only a newer turn replaces the stored row. `recentActivities` is the SQL
 * for the new `recent_activities` (SQLite computes the list before, PostgreSQL in the statement).
 * `day: false` leaves `active_day` out of the update, for a turn on the stored row's day: SQLite
 * rewrites the index entry of any column the SET names, changed or not (PostgreSQL compares values,
 * so it always names it).
 */
export function conversationUpsert(recentActivities: string, day = true): string {
  return `on conflict (key) do update set
    channel = excluded.channel, flow_id = excluded.flow_id, flow_version = excluded.flow_version,
    snapshot = excluded.snapshot, parents = excluded.parents, locale = excluded.locale, turn = excluded.turn,
    user_id = excluded.user_id, updated_at = excluded.updated_at, recent_activities = ${recentActivities}, channel_mark = excluded.channel_mark${
      day ? ', active_day = excluded.active_day' : ''
    }
  where conversations.turn < excluded.turn`;
}

/**
 * `conversations.recent_activities`: the keys of the conversation's latest activities, newest last,
 * one per line, at most this many of them whatever their length (issue 15, item 6). A re-delivery
 * comes within minutes, while the activity is still among the latest of its conversation; a turn
 * that rewrites its conversation row anyway records it at no extra page.
 */
export const RECENT_ACTIVITIES_MAX = 20;

/**
 * Keys up to this long are kept as they are (Teams, Emulator and web chat ids); a longer one (a
 * Webex id, a 512-character id) as a digest of fixed length, so the list stays within
 * `RECENT_ACTIVITIES_MAX` × this many characters and off PostgreSQL's TOAST and SQLite's overflow pages.
 */
export const RECENT_ACTIVITY_KEY_MAX_CHARS = 64;

/** A line break or any other control character: such a key is kept as its digest, never as it is. */
const CONTROL = /\p{Cc}/u;

function digest(activityKey: string): string {
  // 22 base64url characters: 132 bits, and `#` so no key of our channels looks like one.
  return `#${createHash('sha256').update(activityKey).digest('base64url').slice(0, 22)}`;
}

/** An activity key as `recent_activities` holds it: one line of at most RECENT_ACTIVITY_KEY_MAX_CHARS. */
export function recentActivityKey(activityKey: string): string {
  return activityKey.length <= RECENT_ACTIVITY_KEY_MAX_CHARS && !CONTROL.test(activityKey) ? activityKey : digest(activityKey);
}

/** Whether `list` (a `recent_activities` value) holds `activityKey`. */
export function hasRecentActivity(list: string | null | undefined, activityKey: string): boolean {
  if (!list) return false;
  const lines = `\n${list}\n`;
  const key = recentActivityKey(activityKey);
  if (lines.includes(`\n${key}\n`)) return true;
  // A long key recorded as it was before keys were digested (a turn just before the upgrade).
  return key !== activityKey && !CONTROL.test(activityKey) && lines.includes(`\n${activityKey}\n`);
}

/** `list` with `activityKey` appended, the oldest keys dropped past RECENT_ACTIVITIES_MAX (as PG_RECENT_ACTIVITIES_APPEND). */
export function withRecentActivity(list: string, activityKey: string): string {
  const key = recentActivityKey(activityKey);
  if (!list) return key;
  const all = `${list}\n${key}`;
  let breaks = 0;
  for (let i = all.indexOf('\n'); i >= 0; i = all.indexOf('\n', i + 1)) breaks++;
  // A list written by an older release may hold more: it is cut to the bound at once.
  let cut = -1;
  for (let drop = breaks + 1 - RECENT_ACTIVITIES_MAX; drop > 0; drop--) cut = all.indexOf('\n', cut + 1);
  return cut < 0 ? all : all.slice(cut + 1);
}

/**
 * PostgreSQL: `withRecentActivity(conversations.recent_activities, excluded.recent_activities)` inside
 * the upsert, where `excluded.recent_activities` is the turn's activity key ('' without one). `b`
 * counts the line breaks: lines = b + 1, and the last RECENT_ACTIVITIES_MAX lines start at line b + 2 - max.
 */
export const PG_RECENT_ACTIVITIES_APPEND = `(select case when a.b < ${RECENT_ACTIVITIES_MAX} then a.l
      else array_to_string((string_to_array(a.l, E'\\n'))[a.b - ${RECENT_ACTIVITIES_MAX - 2}:], E'\\n') end
    from (select l.l, length(l.l) - length(replace(l.l, E'\\n', '')) as b
      from (select case when excluded.recent_activities = '' then conversations.recent_activities
        when conversations.recent_activities = '' then excluded.recent_activities
        else conversations.recent_activities || E'\\n' || excluded.recent_activities end as l) as l) as a)`;
