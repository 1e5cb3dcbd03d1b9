/**
 * better-sqlite3 compiles SQL on every `prepare`; Kysely's SQLite driver prepares every query it
 * runs. The store's queries are a handful of fixed texts, so keeping the prepared statements saves
 * that work on every turn. A statement still iterating (a streamed query) is never handed out twice.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LRUCache } from 'lru-cache';

export function withStatementCache(db: BetterSqlite3.Database, max = 256): SqliteDatabase {
  const cache = new LRUCache<string, BetterSqlite3.Statement>({ max });
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      const hit = cache.get(sql);
      if (hit && !hit.busy) return hit as unknown as SqliteStatement;
      const stmt = db.prepare(sql);
      if (!hit) cache.set(sql, stmt);
      return stmt as unknown as SqliteStatement;
    },
  };
}
