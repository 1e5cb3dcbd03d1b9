import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from '../../src/storage/statement-cache';

let db: BetterSqlite3.Database;
let prepared: string[];

function open(max?: number) {
  db = new BetterSqlite3(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES (\'a\'), (\'b\'), (\'c\')');
  prepared = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    prepared.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  return withStatementCache(db, max);
}

afterEach(() => db?.close());

describe('statement cache', () => {
  it('compiles a query text once and reuses it', () => {
    const cached = open();
    for (let i = 0; i < 3; i++) expect(cached.prepare('SELECT v FROM t WHERE id = ?').all([2] as never)).toEqual([{ v: 'b' }]);
    expect(prepared).toEqual(['SELECT v FROM t WHERE id = ?']);
  });

  it('gives a fresh statement while the cached one is still iterating', () => {
    const cached = open();
    const sql = 'SELECT v FROM t ORDER BY id';
    const outer = cached.prepare(sql).iterate([] as never) as IterableIterator<{ v: string }>;
    expect(outer.next().value).toEqual({ v: 'a' });
    expect(cached.prepare(sql).all([] as never)).toEqual([{ v: 'a' }, { v: 'b' }, { v: 'c' }]);
    expect([...outer].map((r) => r.v)).toEqual(['b', 'c']);
    expect(prepared).toEqual([sql, sql]);
  });

  it('forgets the least recently used text beyond its size', () => {
    const cached = open(2);
    for (const sql of ['SELECT 1', 'SELECT 2', 'SELECT 1', 'SELECT 3', 'SELECT 1', 'SELECT 2']) cached.prepare(sql);
    expect(prepared).toEqual(['SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 2']);
  });
});
