/**
 * PostgreSQL: the large values turns rewrite all the time (the flow's snapshot and parents in
 * `conversations`, the kept replies' messages in `bot_replies`, 2-5 KB each) compressed with lz4
 * instead of the default pglz when PostgreSQL TOASTs them. Rewriting 20 000 such rows took 1.54 s
 * with pglz and 0.66 s with lz4 here (issue 19: the server's CPU per turn). It changes how new values
 * are stored, nothing is rewritten, and reads are the same. A server built without lz4 (or older than
 * PostgreSQL 14, which has no per-column compression) keeps pglz.
 */
import { sql } from 'kysely';
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    if (t.dialect !== 'postgres') return;
    await sql`do $$ begin
  execute 'alter table conversations alter column snapshot set compression lz4, alter column parents set compression lz4';
  execute 'alter table bot_replies alter column messages set compression lz4';
exception when feature_not_supported or syntax_error then
  raise notice 'lz4 compression is not available on this server: pglz stays';
end $$`.execute(db);
  },
};
