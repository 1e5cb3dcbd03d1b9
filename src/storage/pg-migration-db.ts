/**
 * The Kysely instance the Migrator runs on for PostgreSQL. Kysely's own PostgreSQL introspector
 * reads every column of every schema in the database to learn whether the migration table exists:
 * slow on a shared database, and it fails when another schema is dropped at that moment. The
 * Migrator only needs the names of the tables in our schema, so that is all this introspector reads.
 */
import {
  Kysely,
  PostgresDialect,
  sql,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type PostgresPool,
  type SchemaMetadata,
  type TableMetadata,
} from 'kysely';
import type pg from 'pg';

class SchemaTablesIntrospector implements DatabaseIntrospector {
  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly db: Kysely<any>,
    private readonly schema: string,
  ) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname = ${this.schema}`.execute(this.db);
    return rows.map((r) => ({ name: r.name }));
  }

  /** Tables and views of our schema, without columns (the Migrator needs names only). */
  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; schema: string; kind: string }>`
      select c.relname as name, n.nspname as schema, c.relkind as kind
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = ${this.schema} and c.relkind in ('r', 'v', 'p')`.execute(this.db);
    return rows.map((r) => ({ name: r.name, schema: r.schema, isView: r.kind === 'v', columns: [] }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

/** A Kysely over the store's pool (never ending it) whose introspection stays inside `schema`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function migrationDatabase(pool: pg.Pool, schema: string): Kysely<any> {
  const shared: PostgresPool = { connect: () => pool.connect(), end: async () => undefined };
  class SchemaScopedPostgresDialect extends PostgresDialect {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
      return new SchemaTablesIntrospector(db, schema);
    }
  }
  return new Kysely({ dialect: new SchemaScopedPostgresDialect({ pool: shared }) });
}
