/**
 * SQLite: the kept replies (`bot_replies`, 0012) stored in their primary key's B-tree (WITHOUT ROWID)
 * instead of a rowid table beside a key index. Every turn of a Bot Framework conversation asks
 * whether the conversation owes replies, deletes its done row of the turn before and inserts its
 * own: with a rowid table that is the key index's page and the old row's page, two pages at random
 * places of a large file, plus the new row's. Keyed by (conversation_key, turn) the conversation's
 * rows sit together on one page (issue 19: a returning person's turn among a million stored
 * conversations). A row is ~0.5 KB (the rendered messages), within what such a page holds inline.
 *
 * SQLite cannot change a table's storage in place, so the table is rebuilt in one transaction
 * (Kysely runs SQLite migrations outside one); a rebuilt table is recognised and left alone, so a
 * run interrupted after the commit but before the migration was recorded is harmless. PostgreSQL
 * has no rowid: nothing changes there.
 */
import { sql } from 'kysely';
import type { StoreMigration } from './types';

const COLUMNS = 'conversation_key, turn, activity_key, locale, messages, state, done, attempts, next_attempt_at, claimed_by, claimed_until, last_error, created_at';

export const migration: StoreMigration = {
  async up(db, t) {
    if (t.dialect !== 'sqlite') return;
    await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'bot_replies'`.execute(trx);
      if (/without\s+rowid/i.test(rows[0]?.sql ?? '')) return;
      await sql`create table bot_replies_rebuilt (
  conversation_key text not null, turn integer not null, activity_key text, locale text not null, messages text not null,
  state text not null, done integer default 0 not null, attempts integer default 0 not null, next_attempt_at text,
  claimed_by text, claimed_until text, last_error text, created_at text not null,
  constraint bot_replies_pk primary key (conversation_key, turn)
) without rowid`.execute(trx);
      await sql.raw(`insert into bot_replies_rebuilt (${COLUMNS}) select ${COLUMNS} from bot_replies`).execute(trx);
      await sql`drop table bot_replies`.execute(trx);
      await sql`alter table bot_replies_rebuilt rename to bot_replies`.execute(trx);
      await sql`create index bot_replies_pending on bot_replies (next_attempt_at) where state = 'pending'`.execute(trx);
    });
  },
};
