/**
 * The storage contract every backend passes: run by sqlite-store.test.ts and postgres-store.test.ts
 * against real databases.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcurrentTurnError, DuplicateActivityError, StorageError, type SqlStore } from '../../src/storage/index';
import type { TransactionTurnWriter } from '../../src/storage/turn-writers';
import type { FunnelEvent, TurnCommit } from '../../src/storage/store';
import { conversation, deferred, nextIso, turnCommit, type StoreHarness } from './harness';
import { uniqueName } from '../support';

export function storeContract(makeHarness: () => StoreHarness): void {
  let harness: StoreHarness;
  let store: SqlStore;

  beforeAll(async () => {
    harness = makeHarness();
    store = await harness.open();
  });
  afterAll(async () => {
    await harness?.cleanup();
  });

  const key = (what: string) => `test:${uniqueName(what)}`;

  describe('conversations', () => {
    it('returns nothing for a conversation never stored', async () => {
      expect(await store.loadConversation(key('none'))).toBeUndefined();
      expect(await store.loadTranscript(key('none'))).toEqual([]);
    });

    it('loads a committed conversation exactly as it was saved', async () => {
      const k = key('roundtrip');
      const saved = conversation(k, 1, {
        parents: [{ flowId: 'provisioning-contact', flowVersion: 3, snapshot: { status: 'done', value: 'N9', context: { a: [1, 'два'] } } }],
        locale: 'en',
        userId: 'aad-object-id',
      });
      await store.commitTurn({ conversation: saved, transcript: [] });
      expect(await store.loadConversation(k)).toEqual(saved);
    });

    it('replaces the conversation with the next turn', async () => {
      const k = key('next');
      await store.commitTurn(turnCommit(k, 1));
      const second = conversation(k, 2, { snapshot: { status: 'active', value: 'N3', context: {} }, locale: 'en' });
      await store.commitTurn({ conversation: second, transcript: [] });
      const loaded = await store.loadConversation(k);
      expect(loaded?.turn).toBe(2);
      expect(loaded?.snapshot).toEqual(second.snapshot);
      expect(loaded?.locale).toBe('en');
    });

    it('refuses a commit that does not move the conversation past its stored turn, and writes nothing of it', async () => {
      const k = key('stale');
      await store.commitTurn(turnCommit(k, 2));
      const before = await store.loadConversation(k);
      await expect(store.commitTurn(turnCommit(k, 2, { activityKey: `${k}:a2` }))).rejects.toBeInstanceOf(ConcurrentTurnError);
      await expect(store.commitTurn(turnCommit(k, 1))).rejects.toBeInstanceOf(ConcurrentTurnError);
      expect(await store.loadConversation(k)).toEqual(before);
      expect(await store.loadTranscript(k)).toHaveLength(2);
      expect(await store.isProcessed(k, `${k}:a2`)).toBe(false);
    });
  });

  describe('transcript', () => {
    it('keeps entries in the order they were committed, across turns', async () => {
      const k = key('transcript');
      const at = nextIso();
      await store.commitTurn({
        conversation: conversation(k, 1),
        transcript: [
          { at, from: 'user', text: 'Лист не прийшов' },
          { at, from: 'bot', text: 'Open **Awaiting Provisioning Details** and press Edit.' },
        ],
      });
      await store.commitTurn({ conversation: conversation(k, 2), transcript: [{ at, from: 'user', text: 'Done' }] });
      await store.commitTurn({ conversation: conversation(k, 3), transcript: [{ at, from: 'bot', text: 'Дякую!' }] });
      const entries = await store.loadTranscript(k);
      expect(entries.map((e) => `${e.from}: ${e.text}`)).toEqual([
        'user: Лист не прийшов',
        'bot: Open **Awaiting Provisioning Details** and press Edit.',
        'user: Done',
        'bot: Дякую!',
      ]);
      expect(entries[0]?.at).toBe(at);
    });

    it('keeps each conversation to its own transcript', async () => {
      const a = key('own-a');
      const b = key('own-b');
      await store.commitTurn(turnCommit(a, 1));
      await store.commitTurn(turnCommit(b, 1));
      await store.commitTurn(turnCommit(a, 2));
      expect((await store.loadTranscript(a)).map((e) => e.text)).toEqual(['user turn 1', 'bot turn 1', 'user turn 2', 'bot turn 2']);
      expect(await store.loadTranscript(b)).toHaveLength(2);
    });
  });

  describe('processed activities', () => {
    it('records the activity of a committed turn', async () => {
      const k = key('processed');
      expect(await store.isProcessed(k, `${k}:act-1`)).toBe(false);
      await store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:act-1` }));
      expect(await store.isProcessed(k, `${k}:act-1`)).toBe(true);
      expect(await store.isProcessed(k, `${k}:act-2`)).toBe(false);
    });

    it('refuses to commit the same activity twice and leaves the first commit alone', async () => {
      const k = key('dup');
      await store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:act` }));
      await expect(store.commitTurn(turnCommit(k, 2, { activityKey: `${k}:act` }))).rejects.toBeInstanceOf(DuplicateActivityError);
      expect((await store.loadConversation(k))?.turn).toBe(1);
      expect(await store.loadTranscript(k)).toHaveLength(2);
    });

    it('prunes the marks of the table used before migration 0009, older than the cut-off first', async () => {
      const now = new Date('2030-01-10T00:00:00.000Z');
      const clocked = await harness.open({ clock: () => now });
      const k = key('prune');
      // Written by an instance still on the code before 0009 (a rolling upgrade).
      await clocked.db.insertInto('processed_activities').values({ key: `${k}:old`, created_at: now.toISOString() }).execute();
      const left = async () =>
        (await clocked.db.selectFrom('processed_activities').select('key').where('key', '=', `${k}:old`).execute()).length;
      expect(await clocked.pruneProcessedActivities(new Date(now.getTime() - 1))).toBe(0);
      expect(await left()).toBe(1);
      expect(await clocked.pruneProcessedActivities(new Date(now.getTime() + 1))).toBeGreaterThanOrEqual(1);
      expect(await left()).toBe(0);
      await clocked.close();
    });

    it('recognises the latest activities of a conversation; the oldest drop out past the bound', async () => {
      const k = key('recent');
      const activity = (n: number) => `${k}:activity-${String(n).padStart(4, '0')}-${'x'.repeat(60)}`;
      for (let n = 1; n <= 60; n++) await store.commitTurn(turnCommit(k, n, { activityKey: activity(n) }));
      // Every recent one is still recognised: a re-delivery of it is refused.
      for (const n of [60, 50, 45]) expect(await store.isProcessed(k, activity(n))).toBe(true);
      await expect(store.commitTurn(turnCommit(k, 61, { activityKey: activity(59) }))).rejects.toBeInstanceOf(DuplicateActivityError);
      // The first ones dropped out; the turn without an activity kept the list as it was.
      expect(await store.isProcessed(k, activity(1))).toBe(false);
      await store.commitTurn(turnCommit(k, 61));
      expect(await store.isProcessed(k, activity(60))).toBe(true);
      // The mark belongs to its conversation: another conversation's same id is a new activity.
      expect(await store.isProcessed(key('recent-other'), activity(60))).toBe(false);
      const loaded = await store.loadTurn({ conversationKey: k, userKey: `${k}:u`, activityKey: activity(60) });
      expect(loaded.processed).toBe(true);
      expect(loaded.conversation?.turn).toBe(61);
    });

    it('keeps an over-long activity id as a digest of fixed length, on both databases alike', async () => {
      const k = key('recent-long');
      await store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:short` }));
      await store.commitTurn(turnCommit(k, 2, { activityKey: `${k}:${'y'.repeat(2500)}` }));
      const stored = await store.db.selectFrom('conversations').select('recent_activities').where('key', '=', k).executeTakeFirstOrThrow();
      expect(stored.recent_activities.split('\n')).toEqual([`${k}:short`, expect.stringMatching(/^#[\w-]{22}$/)]);
      expect(await store.isProcessed(k, `${k}:${'y'.repeat(2500)}`)).toBe(true);
    });
  });

  describe('user language', () => {
    it('remembers the last language a person chose, per person', async () => {
      const u1 = key('user');
      const u2 = key('user');
      expect(await store.getUserLocale(u1)).toBeUndefined();
      await store.commitTurn(turnCommit(key('c'), 1, { userLocale: { userKey: u1, locale: 'uk' } }));
      await store.commitTurn(turnCommit(key('c'), 1, { userLocale: { userKey: u2, locale: 'en' } }));
      await store.commitTurn(turnCommit(key('c'), 1, { userLocale: { userKey: u1, locale: 'en' } }));
      expect(await store.getUserLocale(u1)).toBe('en');
      expect(await store.getUserLocale(u2)).toBe('en');
      await store.commitTurn(turnCommit(key('c'), 1, { userLocale: { userKey: u2, locale: 'uk' } }));
      expect(await store.getUserLocale(u2)).toBe('uk');
    });
  });

  describe('loading a turn in one round trip', () => {
    it('returns nothing stored for a new conversation, user and activity', async () => {
      const k = key('turnload');
      expect(await store.loadTurn({ conversationKey: k, userKey: key('u'), activityKey: `${k}:a1` })).toEqual({
        processed: false,
        conversation: undefined,
        userLocale: undefined,
      });
    });

    it('returns the stored conversation, the chosen language and whether the activity was processed, as the single reads do', async () => {
      const k = key('turnload');
      const u = key('u');
      const other = key('u');
      await store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:a1`, userLocale: { userKey: u, locale: 'uk' } }));
      await store.commitTurn(turnCommit(key('c'), 1, { userLocale: { userKey: other, locale: 'en' } }));
      const seen = await store.loadTurn({ conversationKey: k, userKey: u, activityKey: `${k}:a1` });
      expect(seen).toEqual({ processed: true, conversation: await store.loadConversation(k), userLocale: 'uk' });
      expect(seen.conversation?.turn).toBe(1);
      const next = await store.loadTurn({ conversationKey: k, userKey: other, activityKey: `${k}:a2` });
      expect(next.processed).toBe(false);
      expect(next.userLocale).toBe('en');
      expect(next.conversation?.key).toBe(k);
      const noActivity = await store.loadTurn({ conversationKey: k, userKey: key('u') });
      expect(noActivity.processed).toBe(false);
      expect(noActivity.userLocale).toBeUndefined();
    });

    it('does not read the conversation again while it is stored at the turn the caller holds', async () => {
      const k = key('turnload');
      const u = key('u');
      await store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:a1`, userLocale: { userKey: u, locale: 'uk' } }));
      await store.commitTurn(turnCommit(k, 2, { activityKey: `${k}:a2` }));
      expect(await store.loadTurn({ conversationKey: k, userKey: u, activityKey: `${k}:a3`, knownTurn: 2 })).toEqual({ processed: false, unchanged: true, userLocale: 'uk' });
      // A re-delivery is still told apart.
      expect(await store.loadTurn({ conversationKey: k, userKey: u, activityKey: `${k}:a2`, knownTurn: 2 })).toMatchObject({ processed: true, unchanged: true });
      // Moved on (another instance) or held at an older turn: the whole row, as without knownTurn.
      const full = await store.loadTurn({ conversationKey: k, userKey: u, knownTurn: 1 });
      expect(full).toEqual({ processed: false, conversation: await store.loadConversation(k), userLocale: 'uk' });
      expect(full.conversation?.snapshot).toMatchObject({ status: 'active', context: { attempts: 2 } });
      // Gone (retention): nothing stored, never "unchanged".
      expect(await store.loadTurn({ conversationKey: key('gone'), userKey: u, knownTurn: 2 })).toEqual({ processed: false, conversation: undefined, userLocale: 'uk' });
    });

    it('runs inside a turn on the turn connection', async () => {
      const k = key('turnload');
      await store.commitTurn(turnCommit(k, 1));
      const loaded = await store.runExclusive(k, () => store.loadTurn({ conversationKey: k, userKey: key('u') }));
      expect(loaded.conversation?.turn).toBe(1);
    });
  });

  describe('funnel events', () => {
    it('stores the funnel events of a turn, without personal data columns', async () => {
      const k = key('funnel');
      const at = nextIso();
      const base = { at, conversationKey: k, channel: 'msteams', locale: 'uk', mode: 'self' } as const;
      const events: FunnelEvent[] = [
        { ...base, kind: 'started', step: 'N1' },
        { ...base, kind: 'answer', step: 'N1', value: 'no_email' },
        { ...base, kind: 'turn', step: 'N2' },
      ];
      await store.commitTurn(turnCommit(k, 1, { funnel: events }));
      const rows = await store.db.selectFrom('funnel_events').selectAll().where('conversation_key', '=', k).orderBy('id').execute();
      expect(rows.map((r) => [r.kind, r.step, r.value])).toEqual([
        ['started', 'N1', null],
        ['answer', 'N1', 'no_email'],
        ['turn', 'N2', null],
      ]);
      expect(Object.keys(rows[0] ?? {}).sort()).toEqual(['at', 'channel', 'conversation_key', 'id', 'kind', 'locale', 'mode', 'step', 'value']);
    });
  });

  describe('commitTurn is one transaction', () => {
    it('leaves nothing behind when a part of a first commit fails', async () => {
      const k = key('atomic');
      const u = key('atomic-user');
      const bad = { at: nextIso(), conversationKey: k, channel: 'msteams', locale: 'en', mode: 'self', kind: null, step: 'N1' } as unknown as FunnelEvent;
      await expect(
        store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:a`, userLocale: { userKey: u, locale: 'uk' }, funnel: [bad] })),
      ).rejects.toBeInstanceOf(StorageError);
      expect(await store.loadConversation(k)).toBeUndefined();
      expect(await store.loadTranscript(k)).toEqual([]);
      expect(await store.isProcessed(k, `${k}:a`)).toBe(false);
      expect(await store.getUserLocale(u)).toBeUndefined();
    });

    it('keeps the previous turn when the next one fails in a turn writer', async () => {
      const k = key('writer');
      const own = await harness.open();
      await own.commitTurn(turnCommit(k, 1));
      const failing: TransactionTurnWriter = {
        name: 'failing',
        mode: 'transaction',
        applies: (commit) => commit.conversation.key === k,
        async write(trx, commit) {
          // Runs inside the transaction: sees this turn's own uncommitted conversation row.
          const row = await trx.selectFrom('conversations').select('turn').where('key', '=', commit.conversation.key).executeTakeFirst();
          expect(row?.turn).toBe(2);
          throw new Error('case backend refused');
        },
      };
      own.registerTurnWriter(failing);
      await expect(own.commitTurn(turnCommit(k, 2, { activityKey: `${k}:a2` }))).rejects.toThrow(/case backend refused/);
      expect((await own.loadConversation(k))?.turn).toBe(1);
      expect(await own.loadTranscript(k)).toHaveLength(2);
      expect(await own.isProcessed(k, `${k}:a2`)).toBe(false);
      await own.close();
    });

    it('refuses, writing nothing, a turn with a field no registered turn writer writes', async () => {
      const k = key('unwritten');
      const commit = { ...turnCommit(k, 1), notes: ['kept by nobody'] } as TurnCommit;
      await expect(store.commitTurn(commit)).rejects.toThrow(/no turn writer for its "notes"/);
      expect(await store.loadConversation(k)).toBeUndefined();
      // An absent value needs no writer.
      await store.commitTurn({ ...turnCommit(k, 1), notes: undefined } as TurnCommit);
      expect((await store.loadConversation(k))?.turn).toBe(1);
    });

    it('takes a turn writer once by its name, and refuses another writer of that name', async () => {
      const own = await harness.open();
      const writer: TransactionTurnWriter = { name: 'twice', mode: 'transaction', applies: () => false, write: async () => undefined };
      own.registerTurnWriter(writer);
      own.registerTurnWriter(writer);
      expect(() => own.registerTurnWriter({ ...writer })).toThrow(StorageError);
      await own.close();
    });
  });

  describe('turns committed together', () => {
    it('share one commit (one transaction or statement), and each refused turn is refused alone', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => key(`together-${i}`));
      await Promise.all(keys.map((k) => store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:a1` }))));
      const before = store.commitBatches;
      // Together: 18 good next turns, one re-delivered activity and one outdated turn.
      const results = await Promise.allSettled(
        keys.map((k, i) =>
          store.commitTurn(
            i === 3 ? turnCommit(k, 2, { activityKey: `${k}:a1` }) : i === 7 ? turnCommit(k, 1, { activityKey: `${k}:b` }) : turnCommit(k, 2, { activityKey: `${k}:a2` }),
          ),
        ),
      );
      expect(store.commitBatches - before).toBe(1);
      expect(results[3]).toMatchObject({ status: 'rejected', reason: expect.any(DuplicateActivityError) });
      expect(results[7]).toMatchObject({ status: 'rejected', reason: expect.any(ConcurrentTurnError) });
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(18);
      for (const [i, k] of keys.entries()) {
        const refused = i === 3 || i === 7;
        expect((await store.loadConversation(k))?.turn).toBe(refused ? 1 : 2);
        // A refused turn left none of its rows: no transcript entries, no processed mark.
        expect(await store.loadTranscript(k)).toHaveLength(refused ? 2 : 4);
        expect(await store.isProcessed(k, `${k}:b`)).toBe(false);
        expect(await store.isProcessed(k, `${k}:a2`)).toBe(!refused);
      }
    });
    it('fail alone when one of them cannot be written, and the others are committed', async () => {
      const keys = Array.from({ length: 5 }, (_, i) => key(`bad-batch-${i}`));
      const bad = { at: nextIso(), conversationKey: keys[2]!, channel: 'msteams', locale: 'en', mode: 'self', kind: null, step: 'N1' } as unknown as FunnelEvent;
      const results = await Promise.allSettled(
        keys.map((k, i) => store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:1`, ...(i === 2 ? { funnel: [bad] } : {}) }))),
      );
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect(await store.loadConversation(keys[2]!)).toBeUndefined();
      expect(await store.loadTranscript(keys[2]!)).toEqual([]);
      expect(await store.isProcessed(keys[2]!, `${keys[2]}:1`)).toBe(false);
      for (const i of [0, 1, 3, 4]) {
        expect((await store.loadConversation(keys[i]!))?.turn).toBe(1);
        expect(await store.loadTranscript(keys[i]!)).toHaveLength(2);
        expect(await store.isProcessed(keys[i]!, `${keys[i]}:1`)).toBe(true);
      }
    });
  });

  describe('runExclusive', () => {
    it('runs the turns of one conversation one after the other, in arrival order', async () => {
      const k = key('serial');
      let inside = 0;
      let maxInside = 0;
      const order: number[] = [];
      const turns = Array.from({ length: 8 }, (_, i) =>
        store.runExclusive(k, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          const current = await store.loadConversation(k);
          // A real round trip between read and write: an interleaving turn would read the same turn number.
          await sql`select 1`.execute(store.db);
          await store.commitTurn(turnCommit(k, (current?.turn ?? 0) + 1));
          order.push(i);
          inside--;
        }),
      );
      await Promise.all(turns);
      expect(maxInside).toBe(1);
      expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect((await store.loadConversation(k))?.turn).toBe(8);
      expect(await store.loadTranscript(k)).toHaveLength(16);
    });

    it('does not hold up other conversations', async () => {
      const gate = deferred();
      const held = store.runExclusive(key('held'), () => gate.promise);
      const other = await store.runExclusive(key('other'), async () => 'ran');
      expect(other).toBe('ran');
      gate.resolve();
      await held;
    });

    it('lets work that a turn started and that outlives it reach the database after the turn', async () => {
      const k = key('late');
      await store.commitTurn(turnCommit(k, 1));
      const gate = deferred();
      let late: Promise<number | undefined> | undefined;
      await store.runExclusive(k, async () => {
        late = gate.promise.then(async () => (await store.loadConversation(k))?.turn);
      });
      await store.runExclusive(k, () => store.commitTurn(turnCommit(k, 2)));
      gate.resolve();
      expect(await late).toBe(2);
    });

    it('passes on the error of a failed turn and lets the next turn run', async () => {
      const k = key('fails');
      await expect(store.runExclusive(k, async () => Promise.reject(new Error('flow blew up')))).rejects.toThrow('flow blew up');
      await store.runExclusive(k, () => store.commitTurn(turnCommit(k, 1)));
      expect((await store.loadConversation(k))?.turn).toBe(1);
    });
  });

  describe('open and close', () => {
    it('keeps acknowledged data across a restart (close, open a new store)', async () => {
      const k = key('restart');
      const first = await harness.open();
      await first.commitTurn(turnCommit(k, 1, { activityKey: `${k}:a1`, userLocale: { userKey: `${k}:u`, locale: 'uk' } }));
      await first.close();
      const second = await harness.open();
      expect((await second.loadConversation(k))?.turn).toBe(1);
      expect(await second.loadTranscript(k)).toHaveLength(2);
      expect(await second.isProcessed(k, `${k}:a1`)).toBe(true);
      expect(await second.getUserLocale(`${k}:u`)).toBe('uk');
      await second.close();
    });

    it('runs each migration once, however often the store is opened', async () => {
      const applied = await store.appliedMigrations();
      expect(applied).toContain('0001-initial');
      const again = await harness.open();
      const reopened = await harness.open();
      expect(await reopened.appliedMigrations()).toEqual(applied);
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from kysely_migration`.execute(reopened.db);
      expect(Number(rows[0]?.n)).toBe(applied.length);
      await again.close();
      await reopened.close();
    });

    it('refuses to work once closed, with a named error', async () => {
      const closing = await harness.open();
      await closing.close();
      await expect(closing.loadConversation(key('closed'))).rejects.toThrow(/closed/);
    });
  });
}
