/**
 * Retention finds idle conversations by `active_day` (the UTC day of the last turn, days since
 * 1970-01-01) instead of an index on `updated_at` (0006), which every turn rewrote: the old entry
 * deleted where it sat, a new one added. For a returning person among a million stored
 * conversations the old entry is on a cold page, read and dirtied for nothing but the index
 * (issue 19). A day changes once a day: the turn writers set `active_day` only when it does, so
 * on SQLite the index is not touched by a turn on the same day, and on PostgreSQL such an update
 * changes no indexed column and can be HOT (no index entry at all), helped by room left on each
 * page (fillfactor).
 *
 * `active_day` may lag behind `updated_at` but never lead it: retention takes it as a bound and
 * still checks `updated_at` itself. SQLite runs migrations outside a transaction, so each step
 * can be run again.
 */
import { sql } from 'kysely';
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    if (t.dialect === 'postgres') {
      await sql`alter table conversations add column if not exists active_day integer not null default 0`.execute(db);
    } else {
      const { rows } = await sql<{ name: string }>`select name from pragma_table_info('conversations')`.execute(db);
      if (!rows.some((r) => r.name === 'active_day')) await sql`alter table conversations add column active_day integer not null default 0`.execute(db);
    }
    const day =
      t.dialect === 'postgres' ? sql`floor(extract(epoch from updated_at) / 86400)::int` : sql`cast(strftime('%s', updated_at) as integer) / 86400`;
    await sql`update conversations set active_day = ${day} where active_day = 0`.execute(db);
    await sql`create index if not exists conversations_active_day on conversations (active_day)`.execute(db);
    await db.schema.dropIndex('conversations_updated_at').ifExists().execute();
    // Room on each page for the new version of a row (new pages only; existing ones as they are rewritten).
    if (t.dialect === 'postgres') await sql`alter table conversations set (fillfactor = 85)`.execute(db);
  },
};
