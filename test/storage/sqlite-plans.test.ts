/**
 * SQLite plans of the turn's statements on a file with statistics (`ANALYZE`, which an operator's
 * `PRAGMA optimize` also writes): the kept replies' prune, whose values are written `+?` so SQLite
 * does not plan it again for every conversation (bench/PROFILING.md), still finds the rows by the
 * primary key instead of reading the table, and prunes only what it should.
 */
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SQLITE_PRUNE, keepTurnReplies } from '../../src/channels/botframework/replies-repository';
import { createStore } from '../../src/storage/index';
import { STORE_WARM } from '../../src/storage/sqlite-turn-load';
import { silentLogger, useTempDir } from '../support';

const dir = useTempDir('sqlite-plans-');

describe('SQLite plans with statistics', () => {
  it('prunes kept replies by the primary key, and only the done rows of earlier turns', async () => {
    const file = dir.join('bot.sqlite');
    const store = createStore(`sqlite:${file}`, silentLogger);
    store.registerTurnWriter(keepTurnReplies);
    await store.open();
    await store.close();

    const db = new BetterSqlite3(file);
    try {
      const insert = db.prepare(
        "insert into bot_replies (conversation_key, turn, locale, messages, state, created_at) values (?, ?, 'en', '[]', ?, '2026-03-01T10:00:00.000Z')",
      );
      db.transaction(() => {
        for (let c = 0; c < 500; c++) for (let t = 1; t <= 3; t++) insert.run(`msteams:c${c}`, t, t === 3 ? 'pending' : 'sent');
      })();
      db.exec('analyze');
      expect((db.prepare('select count(*) as n from sqlite_stat1 where tbl = ?').get('bot_replies') as { n: number }).n).toBeGreaterThan(0);

      const plan = (db.prepare(`explain query plan ${SQLITE_PRUNE}`).all('msteams:c7', 3) as { detail: string }[]).map((r) => r.detail).join('\n');
      expect(plan).toMatch(/SEARCH bot_replies USING PRIMARY KEY \(conversation_key=\? AND turn<\?\)/);

      expect(db.prepare(SQLITE_PRUNE).run('msteams:c7', 3).changes).toBe(2);
      const left = db.prepare('select conversation_key as key, turn, state from bot_replies where conversation_key in (?, ?) order by 1, 2').all('msteams:c7', 'msteams:c8');
      expect(left).toEqual([
        { key: 'msteams:c7', turn: 3, state: 'pending' },
        { key: 'msteams:c8', turn: 1, state: 'sent' },
        { key: 'msteams:c8', turn: 2, state: 'sent' },
        { key: 'msteams:c8', turn: 3, state: 'pending' },
      ]);
    } finally {
      db.close();
    }
  });

  it('reads ahead a conversation by its keys in indexes, never by a scan of a table', async () => {
    const file = dir.join('warm.sqlite');
    const store = createStore(`sqlite:${file}`, silentLogger);
    store.registerTurnWriter(keepTurnReplies);
    await store.open();
    for (let c = 0; c < 200; c++) {
      const at = new Date(Date.UTC(2026, 2, 1, 10, 0, c)).toISOString();
      await store.commitTurn({
        conversation: { key: `msteams:c${c}`, channel: 'msteams', flowId: 'f', flowVersion: 1, snapshot: {}, locale: 'en', parents: [], turn: 1, userId: `u${c}`, createdAt: at, updatedAt: at },
        transcript: [{ at, from: 'user', text: 'hi' }],
        funnel: [{ at, conversationKey: `msteams:c${c}`, channel: 'msteams', locale: 'en', mode: 'self', kind: 'turn', step: 'N1' }],
        userLocale: { userKey: `u${c}`, locale: 'en' },
      });
    }
    await store.close();

    const db = new BetterSqlite3(file);
    try {
      db.exec('analyze');
      const statements = [...STORE_WARM, keepTurnReplies.sqliteWarm!];
      for (const statement of statements) {
        const plan = (db.prepare(`explain query plan ${statement}`).all({ key: 'msteams:c7', user: 'u7' }) as { detail: string }[]).map((r) => r.detail).join('\n');
        expect(plan, statement).toMatch(/^SEARCH \w+ USING (COVERING )?(INDEX \w+|PRIMARY KEY) \((conversation_key|key|user_key)=\?\)$/);
      }
    } finally {
      db.close();
    }
  });
});
