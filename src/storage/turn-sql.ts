/** SQL and helpers shared by both dialects' turn writes (./pg-turn-batch.ts, ./sqlite-group-commit.ts). */

export const CONVERSATION_COLUMNS = 'key, channel, flow_id, flow_version, snapshot, parents, locale, turn, user_id, created_at, updated_at, recent_activities';

/**
 * The conversation upsert: only a newer turn replaces the stored row. `recentActivities` is the SQL
 * for the new `recent_activities` (SQLite computes the list before, PostgreSQL in the statement).
 */
export function conversationUpsert(recentActivities: string): string {
  return `on conflict (key) do update set
    channel = excluded.channel, flow_id = excluded.flow_id, flow_version = excluded.flow_version,
    snapshot = excluded.snapshot, parents = excluded.parents, locale = excluded.locale, turn = excluded.turn,
    user_id = excluded.user_id, updated_at = excluded.updated_at, recent_activities = ${recentActivities}
  where conversations.turn < excluded.turn`;
}

/**
 * `conversations.recent_activities`: the keys of the conversation's latest activities, newest last,
 * one per line, at most this many characters (whole keys; 20-40 activities with real channel ids).
 * A re-delivery comes within minutes, while the activity is still among the latest of its
 * conversation; a turn that rewrites its conversation row anyway records it at no extra page.
 */
export const RECENT_ACTIVITIES_MAX_CHARS = 2000;

/** An activity key as `recent_activities` holds it: one line. */
export function recentActivityKey(activityKey: string): string {
  return activityKey.replace(/[\r\n]/g, ' ');
}

/** Whether `list` (a `recent_activities` value) holds `activityKey`. */
export function hasRecentActivity(list: string | null | undefined, activityKey: string): boolean {
  if (!list) return false;
  return `\n${list}\n`.includes(`\n${recentActivityKey(activityKey)}\n`);
}

/** `list` with `activityKey` appended, the oldest keys dropped past the bound. */
export function withRecentActivity(list: string, activityKey: string): string {
  const key = recentActivityKey(activityKey);
  const all = list ? `${list}\n${key}` : key;
  if (all.length <= RECENT_ACTIVITIES_MAX_CHARS) return all;
  const tail = all.slice(all.length - RECENT_ACTIVITIES_MAX_CHARS);
  const cut = tail.indexOf('\n');
  // A single key longer than the bound keeps its end, as PG_RECENT_ACTIVITIES_APPEND does.
  return cut < 0 ? tail : tail.slice(cut + 1);
}

/**
 * PostgreSQL: `withRecentActivity(conversations.recent_activities, excluded.recent_activities)` inside
 * the upsert, where `excluded.recent_activities` is the turn's activity key ('' without one).
 */
export const PG_RECENT_ACTIVITIES_APPEND = `(select case when length(a.l) <= ${RECENT_ACTIVITIES_MAX_CHARS} then a.l
      else substr(a.l, length(a.l) - ${RECENT_ACTIVITIES_MAX_CHARS} + strpos(substr(a.l, length(a.l) - ${RECENT_ACTIVITIES_MAX_CHARS - 1}), E'\\n') + 1) end
    from (select case when excluded.recent_activities = '' then conversations.recent_activities
      when conversations.recent_activities = '' then excluded.recent_activities
      else conversations.recent_activities || E'\\n' || excluded.recent_activities end as l) as a)`;
