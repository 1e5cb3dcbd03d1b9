/**
 * A store's database migrated only up to a given migration, on SQLite and on PostgreSQL: for tests of
 * what an upgrade does to data stored by an earlier release. Write the old rows through `db`, call
 * `end()`, then open `store()`: it runs the remaining migrations as a new release would.
 */
import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import { migrationProvider } from '../../src/storage/migrations/index';
import { migrationDatabase } from '../../src/storage/pg-migration-db';
import { createStore, type SqlStore } from '../../src/storage/index';
import { silentLogger, tempDir, TEST_DATABASE_URL } from '../support';

export interface StoreAtMigration {
  /** The database at that migration. Migrations see no table types (src/storage/migrations/types.ts). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  /**
   * Closes `db` and opens the current release's store on the same database, which runs the remaining
   * migrations. Call it in a test: the store is dropped and closed when the test ends.
   */
  upgrade(): Promise<SqlStore>;
  /** The names of a table's indexes, as the store's database has them. */
  indexes(store: SqlStore, table: string): Promise<string[]>;
}

type Opened = Omit<StoreAtMigration, 'upgrade'> & { end(): Promise<void>; store(): SqlStore; cleanup(store: SqlStore): Promise<void> };

/** `upgrade()` for a database at an earlier migration; what it opens is dropped and closed when the test ends. */
function upgradable(old: Opened): StoreAtMigration {
  return {
    db: old.db,
    indexes: old.indexes,
    async upgrade() {
      await old.end();
      const store = old.store();
      onTestFinished(async () => {
        await old.cleanup(store);
        await store.close();
      });
      await store.open();
      return store;
    },
  };
}

async function migrateTo(migrator: Migrator, migration: string): Promise<void> {
  const { error } = await migrator.migrateTo(migration);
  if (error) throw error;
}

export const upgradeDialects: { name: string; at(migration: string): Promise<StoreAtMigration> }[] = [
  {
    name: 'SQLite',
    async at(migration) {
      const dir = tempDir('store-upgrade-');
      const file = dir.join('bot.sqlite');
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
      await migrateTo(new Migrator({ db, provider: migrationProvider('sqlite') }), migration);
      return upgradable({
        db,
        end: () => db.destroy(),
        store: () => createStore(`sqlite:${file}`, silentLogger),
        indexes: async (store, table) =>
          (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = ${table}`.execute(store.db)).rows.map((r) => r.name),
        cleanup: async () => dir.remove(),
      });
    },
  },
  {
    name: 'PostgreSQL',
    async at(migration) {
      const schema = `store_up_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1, options: `-c search_path=${schema}` });
      await pool.query(`create schema ${schema}`);
      const db = migrationDatabase(pool, schema);
      await migrateTo(new Migrator({ db, provider: migrationProvider('postgres'), migrationTableSchema: schema }), migration);
      return upgradable({
        db,
        end: () => db.destroy(),
        store: () => createStore({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_POOL_SIZE: 2, DATABASE_SCHEMA: schema }, silentLogger),
        indexes: async (store, table) =>
          (await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = ${schema} and tablename = ${table}`.execute(store.db)).rows.map(
            (r) => r.name,
          ),
        cleanup: async (store) => {
          await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
        },
      });
    },
  },
];
