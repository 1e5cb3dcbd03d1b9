/**
 * `conversations.active_day` (migration 0023): the UTC day of a conversation's last turn, retention's
 * index instead of `updated_at`. A store upgraded from 0022 gets it from `updated_at`; a turn on a
 * later day moves it, and it never leads `updated_at` (retention takes it as a bound).
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/storage/index';
import { activeDay } from '../../src/storage/turn-sql';
import { conversation, postgresHarness, sqliteHarness, type StoreHarness } from './harness';
import { upgradeDialects } from './store-at-migration';

const dialects: [string, () => StoreHarness][] = [
  ['SQLite', sqliteHarness],
  ['PostgreSQL', postgresHarness],
];

async function storedDay(store: SqlStore, key: string): Promise<number | undefined> {
  const row = await store.db.selectFrom('conversations').select('active_day').where('key', '=', key).executeTakeFirst();
  return row?.active_day;
}

describe('activeDay', () => {
  it('counts whole UTC days since 1970, whatever the time of day', () => {
    expect(activeDay('1970-01-01T00:00:00.000Z')).toBe(0);
    expect(activeDay('1970-01-01T23:59:59.999Z')).toBe(0);
    expect(activeDay('2026-12-07T00:00:00.000Z')).toBe(20_794);
    expect(activeDay('2026-12-07T23:59:59.999Z')).toBe(20_794);
    expect(activeDay('2026-12-08T00:00:00.000Z')).toBe(20_795);
  });
});

describe.each(dialects)('active_day on %s', (_name, makeHarness) => {
  let harness: StoreHarness;
  afterEach(() => harness.cleanup());

  it('is the day of the last turn: kept by a turn on the same day, moved by a turn on a later one', async () => {
    harness = makeHarness();
    const store = await harness.open();
    const key = 'msteams:active-day';
    const first = '2026-12-07T08:00:00.000Z';
    const at = (turn: number, updatedAt: string) => ({ conversation: conversation(key, turn, { createdAt: first, updatedAt }), transcript: [] });
    await store.commitTurn(at(1, first));
    expect(await storedDay(store, key)).toBe(activeDay(first));
    await store.commitTurn(at(2, '2026-12-07T23:59:59.999Z'));
    expect(await storedDay(store, key)).toBe(activeDay(first));
    await store.commitTurn(at(3, '2026-12-08T00:00:00.000Z'));
    expect(await storedDay(store, key)).toBe(activeDay(first) + 1);
    await store.commitTurn(at(4, '2027-01-20T10:00:00.000Z'));
    expect(await storedDay(store, key)).toBe(activeDay('2027-01-20T10:00:00.000Z'));
    expect((await store.loadConversation(key))?.turn).toBe(4);
  });
});

describe.each(upgradeDialects)('upgrading a store with conversations to active_day over $name', ({ name, at }) => {
  it('takes each stored conversation\'s day from its updated_at and indexes it instead of updated_at', async () => {
    const old = await at('0022-funnel-kind-index-for-run-edges');
    const stored = { late: '2026-11-30T23:59:59.999Z', early: '2026-12-01T00:00:00.000Z', older: '2025-02-03T04:05:06.007Z' };
    await old.db
      .insertInto('conversations')
      .values(
        Object.entries(stored).map(([key, updatedAt]) => ({
          key: `msteams:${key}`,
          channel: 'msteams',
          flow_id: 'provisioning-contact',
          flow_version: 3,
          snapshot: JSON.stringify({ status: 'active' }),
          parents: '[]',
          locale: 'en',
          turn: 1,
          user_id: 'u',
          created_at: updatedAt,
          updated_at: updatedAt,
        })),
      )
      .execute();
    const store = await old.upgrade();
    for (const [key, updatedAt] of Object.entries(stored)) expect(await storedDay(store, `msteams:${key}`)).toBe(activeDay(updatedAt));
    const indexes = await old.indexes(store, 'conversations');
    expect(indexes).toContain('conversations_active_day');
    expect(indexes).not.toContain('conversations_updated_at');
    if (name === 'PostgreSQL') {
      // Room on each page, so a same-day turn's new row version fits beside the old one (a HOT update).
      const { rows } = await sql<{ reloptions: string[] | null }>`select reloptions from pg_class where oid = 'conversations'::regclass`.execute(store.db);
      expect(rows[0]?.reloptions).toContain('fillfactor=85');
    }
  });
});
