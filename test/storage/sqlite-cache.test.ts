/**
 * SQLite's page cache of the bot's connection: SQLITE_CACHE_MB when set; unset, sized from the file
 * at start (1/64 of it, from SQLite's own 16 MB up to 256 MiB), so a large store keeps its B-trees'
 * inner pages cached. Large files are made sparse: SQLite goes by the page count in its header.
 */
import { truncateSync } from 'node:fs';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/storage';
import { sqliteCacheKiBFor } from '../../src/storage/connect';
import { silentLogger, testDir } from '../support';

const GiB = 1024 ** 3;

async function cacheSize(opts: { cacheMb?: number; fileBytes?: number } = {}): Promise<number> {
  const file = testDir('sqlite-cache').join('bot.sqlite');
  const config = { DATABASE_URL: `sqlite:${file}`, DATABASE_POOL_SIZE: 1, ...(opts.cacheMb ? { SQLITE_CACHE_MB: opts.cacheMb } : {}) };
  if (opts.fileBytes) {
    const first = createStore(config, silentLogger);
    await first.open();
    await first.close();
    truncateSync(file, opts.fileBytes);
  }
  const store = createStore(config, silentLogger);
  await store.open();
  try {
    const { rows } = await sql<{ cache_size: number }>`pragma cache_size`.execute(store.db);
    return Number(rows[0]!.cache_size);
  } finally {
    await store.close();
  }
}

describe("SQLite's page cache", () => {
  it('is SQLITE_CACHE_MB in KiB as SQLite counts it, whatever the file', async () => {
    expect(await cacheSize({ cacheMb: 64 })).toBe(-64 * 1024);
    expect(await cacheSize({ cacheMb: 8, fileBytes: 8 * GiB })).toBe(-8 * 1024);
  });

  it("unset, stays SQLite's own for a new or small store and grows with a large one, up to 256 MiB", async () => {
    expect(await cacheSize()).toBe(-16000); // better-sqlite3 builds SQLite with 16 MB
    expect(await cacheSize({ fileBytes: 4 * GiB })).toBe(-64 * 1024);
    expect(await cacheSize({ fileBytes: 64 * GiB })).toBe(-256 * 1024);
  });

  it('is sized as 1/64 of the file between 16 MB and 256 MiB', () => {
    expect(sqliteCacheKiBFor(0)).toBe(16_000);
    expect(sqliteCacheKiBFor(0.5 * GiB)).toBe(16_000);
    expect(sqliteCacheKiBFor(2 * GiB)).toBe(32 * 1024);
    expect(sqliteCacheKiBFor(10 * GiB)).toBe(160 * 1024);
    expect(sqliteCacheKiBFor(20 * GiB)).toBe(256 * 1024);
  });
});
