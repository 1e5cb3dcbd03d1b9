/**
 * The bench grows the store to 100k / 1M conversations by copying conversations the store itself
 * wrote. These tests hold it to its promise: a copy reads back exactly like its template (only the
 * keys renamed), on SQLite and on PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBenchDatabase, type BenchDatabase } from '../../bench/lib/postgres';
import { replicateConversations, storedBytes, type SeedTarget } from '../../bench/lib/seed';
import { createLogger } from '../../src/log';
import { createStore, type SqlStore } from '../../src/storage/index';
import type { TurnCommit } from '../../src/storage/store';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const logger = createLogger('silent');
const PREFIX = 'bench-seedtest-';

function turn(n: number, t: number): TurnCommit {
  const key = `msteams:${PREFIX}${n}`;
  const at = `2026-11-25T10:0${t}:00.000Z`;
  return {
    conversation: {
      key,
      channel: 'msteams',
      flowId: 'provisioning-contact',
      flowVersion: 3,
      snapshot: { status: 'active', value: t === 0 ? 'entry' : 'spamCheck', context: { trail: [{ step: 'entry', choice: 'never_arrived' }], user: `${PREFIX}${n}-user` } },
      locale: n % 2 ? 'uk' : 'en',
      parents: [],
      turn: t + 1,
      userId: `${PREFIX}${n}-user`,
      createdAt: '2026-11-25T10:00:00.000Z',
      updatedAt: at,
    },
    transcript: [
      { at, from: 'user', text: `pressed ${t}` },
      { at, from: 'bot', text: `Step ${t}: check the spam folder of bench.user${n}@example.com` },
    ],
    activityKey: `msteams:${PREFIX}${n}-a${t}`,
    ...(t === 1 ? { userLocale: { userKey: `msteams:${PREFIX}${n}-user`, locale: 'uk' as const } } : {}),
    funnel: [{ at, conversationKey: key, channel: 'msteams', locale: 'en', mode: 'self', kind: 'step_entered', step: t === 0 ? 'entry' : 'spamCheck' }],
  };
}

async function writeTemplates(url: string): Promise<void> {
  const store = createStore(url, logger);
  await store.open();
  try {
    for (const n of [1, 2]) for (const t of [0, 1]) await store.commitTurn(turn(n, t));
  } finally {
    await store.close();
  }
}

const renamed = (value: unknown, copy: number) => JSON.parse(JSON.stringify(value).replaceAll(PREFIX, `${PREFIX}c${copy}-`));

async function expectCopiesMatch(url: string): Promise<void> {
  const store: SqlStore = createStore(url, logger);
  await store.open();
  try {
    for (const n of [1, 2]) {
      const key = `msteams:${PREFIX}${n}`;
      const template = await store.loadConversation(key);
      for (const copy of [1, 2]) {
        const copyKey = `msteams:${PREFIX}c${copy}-${n}`;
        expect(await store.loadConversation(copyKey)).toEqual(renamed(template, copy));
        expect(await store.loadTranscript(copyKey)).toEqual(await store.loadTranscript(key));
        expect(await store.isProcessed(copyKey, `msteams:${PREFIX}c${copy}-${n}-a1`)).toBe(true);
        expect(await store.getUserLocale(`msteams:${PREFIX}c${copy}-${n}-user`)).toBe('uk');
      }
    }
    expect(await store.loadConversation(`msteams:${PREFIX}c3-1`)).toBeUndefined();
  } finally {
    await store.close();
  }
}

describe('growing the store by copying conversations', () => {
  describe('SQLite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-seed-'));
    const file = join(dir, 'bot.sqlite');
    const target: SeedTarget = { dialect: 'sqlite', location: file };
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('makes copies that read back exactly like their templates, keys renamed', async () => {
      await writeTemplates(`sqlite:${file}`);
      const before = await storedBytes(target);
      const report = await replicateConversations(target, PREFIX, 6, 0, () => undefined);
      expect(report).toMatchObject({ conversations: 6, copiesMade: 2, skippedTables: [] });
      await expectCopiesMatch(`sqlite:${file}`);
      const after = await storedBytes(target);
      expect(after.conversations).toBe(6);
      expect(after.bytes).toBeGreaterThan(before.bytes);
    });
  });

  describe('PostgreSQL', () => {
    let db: BenchDatabase;
    beforeAll(async () => {
      db = await createBenchDatabase(PG_URL, 'seedtest');
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('makes copies that read back exactly like their templates, keys renamed', async () => {
      await writeTemplates(db.url);
      const report = await replicateConversations({ dialect: 'postgres', location: db.url }, PREFIX, 6, 0, () => undefined);
      expect(report).toMatchObject({ conversations: 6, copiesMade: 2 });
      await expectCopiesMatch(db.url);
      expect((await storedBytes({ dialect: 'postgres', location: db.url })).conversations).toBe(6);
    });
  });
});
