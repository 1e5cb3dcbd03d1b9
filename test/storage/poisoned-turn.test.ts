/**
 * Issue 15, item 3: a failure of one turn in a batched load or commit never fails another. One
 * poisoned turn (a value the database refuses: a NUL byte, which PostgreSQL cannot store, or a NULL
 * in a NOT NULL column) is loaded or committed in the same pass of the event loop as 20 good ones,
 * so they share one batch; the 20 are loaded and committed as if it were not there, and nothing of
 * the poisoned turn is stored. On SQLite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError, type SqlStore } from '../../src/storage/index';
import type { TurnCommit } from '../../src/storage/store';
import { postgresHarness, sqliteHarness, turnCommit, type StoreHarness } from './harness';
import { uniqueName } from '../support';

const GOOD = 20;

interface Poison {
  what: string;
  /** The poisoned turn, from a good turn of its conversation. */
  make(good: TurnCommit): TurnCommit;
  /** Whether this database refuses it (SQLite stores a NUL byte as it is). */
  refusedBy: ReadonlyArray<'sqlite' | 'postgres'>;
}

const POISONS: Poison[] = [
  {
    what: 'a NUL byte in the transcript text',
    make: (good) => ({ ...good, transcript: good.transcript.map((e, i) => (i === 0 ? { ...e, text: 'my email is \u0000a@example.com' } : e)) }),
    refusedBy: ['postgres'],
  },
  {
    what: 'a NUL byte in the user id',
    make: (good) => ({ ...good, conversation: { ...good.conversation, userId: 'user\u0000-1' } }),
    refusedBy: ['postgres'],
  },
  {
    what: 'a NULL channel (a NOT NULL column)',
    make: (good) => ({ ...good, conversation: { ...good.conversation, channel: null as unknown as string } }),
    refusedBy: ['sqlite', 'postgres'],
  },
];

describe.each([
  ['SQLite', sqliteHarness],
  ['PostgreSQL', postgresHarness],
] as const)('one poisoned turn among %s turns of other people', (_name, makeHarness) => {
  let harness: StoreHarness;
  let store: SqlStore;

  beforeAll(async () => {
    harness = makeHarness();
    store = await harness.open();
  });
  afterAll(() => harness.cleanup());

  /** 21 conversations at turn 1; the poisoned one is in the middle. */
  async function conversations(): Promise<string[]> {
    const keys = Array.from({ length: GOOD + 1 }, () => `msteams:${uniqueName('conv')}`);
    await Promise.all(keys.map((k) => store.commitTurn(turnCommit(k, 1, { activityKey: `${k}:a1` }))));
    return keys;
  }

  it.each(POISONS)('commits the 20 good turns committed together with $what', async (poison) => {
    const keys = await conversations();
    const poisoned = GOOD / 2;
    const results = await Promise.allSettled(
      keys.map((k, i) => {
        const good = turnCommit(k, 2, { activityKey: `${k}:a2` });
        return store.commitTurn(i === poisoned ? poison.make(good) : good);
      }),
    );
    const refused = poison.refusedBy.includes(harness.dialect);
    for (const [i, k] of keys.entries()) {
      if (i === poisoned && refused) {
        expect(results[i]).toMatchObject({ status: 'rejected', reason: expect.any(StorageError) });
        // Nothing of it: still at turn 1, its activity not recorded, no transcript entries of turn 2.
        expect((await store.loadConversation(k))?.turn).toBe(1);
        expect(await store.isProcessed(k, `${k}:a2`)).toBe(false);
        expect(await store.loadTranscript(k)).toHaveLength(2);
        continue;
      }
      expect(results[i], `turn ${i}`).toMatchObject({ status: 'fulfilled' });
      expect((await store.loadConversation(k))?.turn).toBe(2);
      expect(await store.isProcessed(k, `${k}:a2`)).toBe(true);
      expect(await store.loadTranscript(k)).toHaveLength(4);
    }
  });

  it('loads the 20 good turns loaded together with one whose conversation key holds a NUL byte', async () => {
    const keys = await conversations();
    const poisonedKey = `msteams:${uniqueName('conv')}\u0000`;
    const statementsBefore = store.pgBatches?.loadStatements ?? 0;
    const requests = [...keys.slice(0, GOOD / 2), poisonedKey, ...keys.slice(GOOD / 2, GOOD)];
    const results = await Promise.allSettled(
      requests.map((k) => store.loadTurn({ conversationKey: k, userKey: `${k}:user`, activityKey: `${k}:a1` })),
    );
    for (const [i, k] of requests.entries()) {
      if (k === poisonedKey) {
        // PostgreSQL cannot even compare with such a key; SQLite finds no conversation by it.
        if (harness.dialect === 'postgres') expect(results[i]).toMatchObject({ status: 'rejected', reason: expect.any(StorageError) });
        else expect(results[i]).toMatchObject({ status: 'fulfilled', value: { processed: false, conversation: undefined } });
        continue;
      }
      expect(results[i], `load ${i}`).toMatchObject({ status: 'fulfilled', value: { processed: true, conversation: { key: k, turn: 1 } } });
    }
    // PostgreSQL loads turns of one pass in one statement: this one failed, and each turn ran again alone.
    if (harness.dialect === 'postgres') expect((store.pgBatches?.loadStatements ?? 0) - statementsBefore).toBe(GOOD);
  });
});
