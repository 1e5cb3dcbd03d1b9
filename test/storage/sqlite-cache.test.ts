/** SQLITE_CACHE_MB sets SQLite's page cache of the bot's connection; unset, SQLite's own stays. */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/storage';
import { silentLogger, testDir } from '../support';

async function cacheSize(cacheMb?: number): Promise<number> {
  const dir = testDir('sqlite-cache');
  const store = createStore({ DATABASE_URL: `sqlite:${dir.join('bot.sqlite')}`, DATABASE_POOL_SIZE: 1, ...(cacheMb ? { SQLITE_CACHE_MB: cacheMb } : {}) }, silentLogger);
  await store.open();
  try {
    const { rows } = await sql<{ cache_size: number }>`pragma cache_size`.execute(store.db);
    return Number(rows[0]!.cache_size);
  } finally {
    await store.close();
  }
}

describe('SQLITE_CACHE_MB', () => {
  it('sets the page cache in KiB as SQLite counts it, and leaves SQLite its own without it', async () => {
    expect(await cacheSize(64)).toBe(-64 * 1024);
    expect(await cacheSize()).toBe(-16000); // better-sqlite3 builds SQLite with 16 MB
  });
});
