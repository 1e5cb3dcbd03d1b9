/**
 * PostgreSQL: a statement text registered with `nameStatement` runs as a named (prepared) statement
 * also through Kysely, which sends every query unnamed; other queries stay unnamed. And a turn with
 * transaction writers commits through the same named statement as the batched turns.
 */
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/storage/index';
import { nameStatement } from '../../src/storage/pg-named-statements';
import { postgresHarness, turnCommit } from './harness';
import { uniqueName } from '../support';

describe('PostgreSQL: named statements through Kysely', () => {
  const harness = postgresHarness();
  let store: SqlStore;

  beforeAll(async () => {
    store = await harness.open({ poolSize: 1 });
  });
  afterAll(() => harness.cleanup());

  /** The statements prepared on the store's (one) connection: their names and texts. */
  const prepared = async () => {
    const { rows } = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(store.db);
    return rows;
  };

  it('prepares a registered text once on the connection, and leaves other queries unnamed', async () => {
    const text = `select $1::int + 1 as n -- ${uniqueName('registered')}`;
    const name = nameStatement(text);
    expect(nameStatement(text)).toBe(name);
    for (const n of [1, 2]) {
      const { rows } = await store.db.executeQuery<{ n: number }>(CompiledQuery.raw(text, [n]));
      expect(rows).toEqual([{ n: n + 1 }]);
    }
    await store.db.executeQuery(CompiledQuery.raw(`select $1::int as n -- ${uniqueName('unnamed')}`, [1]));
    const statements = await prepared();
    expect(statements.filter((s) => s.name === name)).toEqual([{ name, statement: text }]);
    expect(statements.some((s) => s.statement.includes('unnamed'))).toBe(false);
  });

  it('gives two texts two names', () => {
    expect(nameStatement('select 1 as a')).not.toBe(nameStatement('select 1 as b'));
  });

  it('commits a turn with transaction writers through the batch commit statement, prepared', async () => {
    store.registerTurnWriter({ name: 'probe', mode: 'transaction', applies: () => true, write: async () => undefined });
    const key = `msteams:${uniqueName('conv')}`;
    await store.commitTurn(turnCommit(key, 1));
    await store.commitTurn(turnCommit(key, 2));
    const commits = (await prepared()).filter((s) => s.statement.includes('insert into conversations'));
    expect(commits).toHaveLength(1);
    expect((await store.loadConversation(key))?.turn).toBe(2);
  });
});
