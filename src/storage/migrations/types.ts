import type { Kysely } from 'kysely';

export type StoreDialect = 'sqlite' | 'postgres';

/** Column types that differ between the dialects; everything else is written once. */
export interface ColumnTypes {
  dialect: StoreDialect;
  /** timestamptz on PostgreSQL, ISO-8601 text on SQLite. Write ISO strings; read with `toIso`. */
  timestamp: 'timestamptz' | 'text';
  /** jsonb on PostgreSQL, text on SQLite. Write `JSON.stringify(v)`; read with `fromJson`. */
  json: 'jsonb' | 'text';
  /**
   * The type of an auto-numbered primary key: use
   * `.addColumn('id', t.bigId, (c) => autoId(c, t))` from ./helpers.
   */
  bigId: 'bigint' | 'integer';
}

export interface StoreMigration {
  // Migrations see no table types: the schema is whatever the earlier migrations made it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  up(db: Kysely<any>, types: ColumnTypes): Promise<void>;
}
