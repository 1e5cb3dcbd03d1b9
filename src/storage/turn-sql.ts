/** SQL shared by both dialects' turn writes (./sql-store.ts for PostgreSQL, ./sqlite-group-commit.ts). */

export const CONVERSATION_COLUMNS = 'key, channel, flow_id, flow_version, snapshot, parents, locale, turn, user_id, created_at, updated_at';
export const CONVERSATION_UPSERT = `on conflict (key) do update set
    channel = excluded.channel, flow_id = excluded.flow_id, flow_version = excluded.flow_version,
    snapshot = excluded.snapshot, parents = excluded.parents, locale = excluded.locale, turn = excluded.turn,
    user_id = excluded.user_id, updated_at = excluded.updated_at
  where conversations.turn < excluded.turn`;
