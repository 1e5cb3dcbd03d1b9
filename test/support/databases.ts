/** The test PostgreSQL (TEST_DATABASE_URL): schemas of their own per suite, and the two databases a whole bot runs on. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `<prefix>_` and 12 hex digits: a schema (or application) name no other run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Drops a schema of TEST_DATABASE_URL and everything in it. */
export async function dropPostgresSchema(schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await admin.end();
  }
}

/**
 * The two databases a whole-bot test runs on, for `describe.each`: SQLite (the default, no settings)
 * and a fresh schema of TEST_DATABASE_URL named `<schemaPrefix>_…` (drop it after the tests; `useShared`
 * does when given the env).
 */
export function botDatabases(schemaPrefix: string): readonly (readonly [string, () => Record<string, string>])[] {
  return [
    ['SQLite', () => ({})],
    ['PostgreSQL', () => ({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: uniqueName(schemaPrefix) })],
  ];
}
