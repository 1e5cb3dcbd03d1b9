/**
 * The bench grows the store to 100k / 1M conversations by copying conversations the store itself
 * wrote. These tests hold it to its promise: a copy reads back exactly like its template (only the
 * keys renamed), on SQLite and on PostgreSQL.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBenchDatabase, type BenchDatabase } from '../../bench/lib/postgres';
import { replicateConversations, storedBytes, type SeedTarget } from '../../bench/lib/seed';
import { createStore, type SqlStore } from '../../src/storage/index';
import type { TurnCommit } from '../../src/storage/store';
import { silentLogger, TEST_DATABASE_URL, useTempDir } from '../support';

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
  const store = createStore(url, silentLogger);
  await store.open();
  try {
    for (const n of [1, 2]) for (const t of [0, 1]) await store.commitTurn(turn(n, t));
  } finally {
    await store.close();
  }
}

/** Runs SQL on the target (`?` placeholders become $n on PostgreSQL). */
async function query(target: SeedTarget, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  if (target.dialect === 'sqlite') {
    const db = new BetterSqlite3(target.location);
    try {
      const st = db.prepare(text);
      return st.reader ? (st.all(...params) as Record<string, unknown>[]) : (st.run(...params), []);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.location });
  await client.connect();
  try {
    let i = 0;
    return (await client.query(text.replace(/\?/g, () => `$${++i}`), params)).rows;
  } finally {
    await client.end();
  }
}

/** The Bot Framework channel keeps a conversation reference per conversation: copies need theirs. */
async function addReferences(target: SeedTarget): Promise<void> {
  for (const n of [1, 2]) {
    const reference = JSON.stringify({ conversation: { id: `${PREFIX}${n}` }, user: { id: `${PREFIX}${n}-user` }, serviceUrl: 'http://127.0.0.1:9' });
    await query(target, 'INSERT INTO conversation_references (conversation_key, channel, reference, updated_at) VALUES (?, ?, ?, ?)', [`msteams:${PREFIX}${n}`, 'msteams', reference, '2026-11-25T10:00:00.000Z']);
  }
}

async function expectReferencesCopied(target: SeedTarget): Promise<void> {
  const rows = await query(target, 'SELECT conversation_key, reference FROM conversation_references ORDER BY conversation_key');
  expect(rows.map((r) => r.conversation_key)).toEqual([`msteams:${PREFIX}1`, `msteams:${PREFIX}2`, `msteams:${PREFIX}c1-1`, `msteams:${PREFIX}c1-2`, `msteams:${PREFIX}c2-1`, `msteams:${PREFIX}c2-2`]);
  const copy = rows.find((r) => r.conversation_key === `msteams:${PREFIX}c2-1`)!;
  const reference = typeof copy.reference === 'string' ? JSON.parse(copy.reference) : copy.reference;
  expect(reference).toMatchObject({ conversation: { id: `${PREFIX}c2-1` }, user: { id: `${PREFIX}c2-1-user` } });
}

const renamed = (value: unknown, copy: number) => JSON.parse(JSON.stringify(value).replaceAll(PREFIX, `${PREFIX}c${copy}-`));

async function expectCopiesMatch(url: string): Promise<void> {
  const store: SqlStore = createStore(url, silentLogger);
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
    const dir = useTempDir('bench-seed-');

    it('makes copies that read back exactly like their templates, keys renamed', async () => {
      const file = dir.join('bot.sqlite');
      const target: SeedTarget = { dialect: 'sqlite', location: file };
      await writeTemplates(`sqlite:${file}`);
      await addReferences(target);
      const before = await storedBytes(target);
      const report = await replicateConversations(target, PREFIX, 6, 0, () => undefined);
      expect(report).toMatchObject({ conversations: 6, firstCopy: 1, copiesMade: 2, skippedTables: [], templates: [`${PREFIX}1`, `${PREFIX}2`] });
      expect(report.copiedTables).toEqual(expect.arrayContaining(['conversations', 'conversation_references', 'bot_replies']));
      await expectCopiesMatch(`sqlite:${file}`);
      await expectReferencesCopied(target);
      const after = await storedBytes(target);
      expect(after.conversations).toBe(6);
      expect(after.bytes).toBeGreaterThan(before.bytes);
    });
  });

  describe('PostgreSQL', () => {
    let db: BenchDatabase;
    beforeAll(async () => {
      db = await createBenchDatabase(TEST_DATABASE_URL, 'seedtest');
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('makes copies that read back exactly like their templates, keys renamed', async () => {
      const target: SeedTarget = { dialect: 'postgres', location: db.url };
      await writeTemplates(db.url);
      await addReferences(target);
      const report = await replicateConversations(target, PREFIX, 6, 0, () => undefined);
      expect(report).toMatchObject({ conversations: 6, copiesMade: 2, templates: [`${PREFIX}1`, `${PREFIX}2`] });
      await expectCopiesMatch(db.url);
      await expectReferencesCopied(target);
      expect((await storedBytes({ dialect: 'postgres', location: db.url })).conversations).toBe(6);
    });
  });
});
