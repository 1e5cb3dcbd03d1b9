/**
 * Issue 15: a turn's replies are committed with the turn and stay the channel's outbox row until it
 * records that the connector took them. On SQLite and PostgreSQL alike: written by the batched
 * commit (and by a turn with a transaction of its own), never for a refused turn; claimed per
 * conversation, recorded only by the claim's holder; on PostgreSQL a live claim of another worker
 * is respected until its lease expires.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RetentionJob } from '../../../src/retention/retention-job';
import { DuplicateActivityError } from '../../../src/storage/errors';
import { BotConversationsRepository } from '../../../src/channels/botframework/conversations-repository';
import { BotRepliesRepository, type TurnReplies } from '../../../src/channels/botframework/replies-repository';
import type { SqlStore } from '../../../src/storage';
import { postgresHarness, sqliteHarness, turnCommit, type StoreHarness } from '../../storage/harness';
import { silentLogger, uniqueName } from '../../support';

const LEASE_MS = 60_000;

function message(text: string) {
  return { paragraphs: [text], choices: [{ id: 'yes', label: 'Yes' }], links: [], facts: [], step: 'N1', expects: 'choice' };
}

function pending(text: string, by: string, at: Date): TurnReplies {
  return { state: 'pending', locale: 'en', messages: [message(text)], claimedBy: by, claimedUntil: new Date(at.getTime() + LEASE_MS).toISOString() };
}

function answered(text: string): TurnReplies {
  return { state: 'answered', locale: 'uk', messages: [message(text)] };
}

/** A commit of `turn` whose conversation was updated at `at` (rows are due from then on). */
function commitAt(key: string, turn: number, at: Date, replies: TurnReplies, activityKey?: string) {
  const commit = turnCommit(key, turn, { replies, ...(activityKey ? { activityKey } : {}) });
  commit.conversation.updatedAt = at.toISOString();
  return commit;
}

const T0 = new Date('2026-03-01T10:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);

describe.each([
  { name: 'sqlite', make: sqliteHarness },
  { name: 'postgres', make: postgresHarness },
])('kept replies on $name', ({ name, make }) => {
  let harness: StoreHarness;
  afterEach(async () => {
    await harness.cleanup();
  });

  async function open(): Promise<{ store: SqlStore; repo: BotRepliesRepository }> {
    const store = await harness.open();
    return { store, repo: new BotRepliesRepository(store) };
  }

  it('are written by the turn commit itself, batched or in a transaction of its own, and never for a refused turn', async () => {
    harness = make();
    const { store, repo } = await open();
    const keys = [1, 2, 3].map((i) => `msteams:${uniqueName(`batch${i}`)}`);
    // Committed in one pass of the event loop: one batch.
    await Promise.all(keys.map((k, i) => store.commitTurn(commitAt(k, 1, T0, i === 2 ? answered(`reply ${i}`) : pending(`reply ${i}`, 'worker-a', T0), `msteams:act-${k}`))));
    // A turn a transaction turn writer applies to (a new case, a Webex notification) commits in a
    // Kysely transaction of its own.
    const own = `webex:${uniqueName('own')}`;
    store.registerTurnWriter({ name: 'own_transaction', mode: 'transaction', applies: (c) => c.conversation.key === own, write: async () => undefined });
    await store.commitTurn(commitAt(own, 1, T0, pending('own transaction', 'worker-a', T0), `webex:${uniqueName('n')}`));
    // The same activity again: refused, and nothing of it is kept.
    await expect(store.commitTurn(commitAt(keys[0]!, 2, T0, pending('twice', 'worker-a', T0), `msteams:act-${keys[0]}`))).rejects.toBeInstanceOf(
      DuplicateActivityError,
    );

    const rows = await Promise.all([...keys, own].map((k) => repo.ofConversation(k)));
    expect(rows.map((r) => r.map((x) => [x.turn, x.state, (x.messages[0] as { paragraphs: string[] }).paragraphs[0]]))).toEqual([
      [[1, 'pending', 'reply 0']],
      [[1, 'pending', 'reply 1']],
      [[1, 'answered', 'reply 2']],
      [[1, 'pending', 'own transaction']],
    ]);
    expect(rows[0]![0]!.activityKey).toBe(`msteams:act-${keys[0]}`);
    expect(rows[2]![0]!.locale).toBe('uk');
  });

  it('are written by a store that had their writer before it opened, and after it reopened', async () => {
    harness = make();
    const store = harness.create();
    const repo = new BotRepliesRepository(store);
    await store.open();
    const key = `msteams:${uniqueName('before-open')}`;
    await store.commitTurn(commitAt(key, 1, T0, answered('before open'), 'msteams:o1'));
    expect((await repo.ofConversation(key)).map((r) => [r.turn, r.state])).toEqual([[1, 'answered']]);
    await store.close();
    await store.open();
    await store.commitTurn(commitAt(key, 2, T0, pending('reopened', 'worker-a', T0), 'msteams:o2'));
    // The second turn's commit wrote its row and pruned the first one's (answered, so done).
    expect((await repo.ofConversation(key)).map((r) => [r.turn, r.state])).toEqual([[2, 'pending']]);
  });

  it('a conversation keeps the replies of its latest turn and those still pending, not older ones', async () => {
    harness = make();
    const { store, repo } = await open();
    const key = `emulator:${uniqueName('prune')}`;
    await store.commitTurn(commitAt(key, 1, T0, answered('one'), 'emulator:a1'));
    await store.commitTurn(commitAt(key, 2, T0, pending('two', 'worker-a', T0), 'emulator:a2'));
    await store.commitTurn(commitAt(key, 3, T0, answered('three'), 'emulator:a3'));
    await store.commitTurn(commitAt(key, 4, T0, answered('four'), 'emulator:a4'));

    expect((await repo.ofConversation(key)).map((r) => [r.turn, r.state])).toEqual([
      [2, 'pending'],
      [4, 'answered'],
    ]);
    expect((await repo.forActivity(key, 'emulator:a4')).map((r) => r.turn)).toEqual([4]);
    expect(await repo.forActivity(key, 'emulator:a3')).toEqual([]);
  });

  it('records what was sent only for the worker holding the claim, and a sent row is never claimed again', async () => {
    harness = make();
    const { store, repo } = await open();
    const key = `msteams:${uniqueName('mark')}`;
    await store.commitTurn(commitAt(key, 1, T0, pending('hello', 'worker-a', T0), 'msteams:m1'));

    expect(await repo.markDone(key, 1, 'worker-b', 1, true)).toBe(false);
    expect((await repo.ofConversation(key))[0]!.state).toBe('pending');
    expect(await repo.markDone(key, 1, 'worker-a', 1, true)).toBe(true);
    expect((await repo.ofConversation(key))[0]).toMatchObject({ state: 'sent', done: 1 });

    expect(await repo.claimConversation(key, { workerId: 'worker-b', now: later(2 * LEASE_MS), leaseMs: LEASE_MS })).toEqual([]);
    expect(await repo.dueConversations({ workerId: 'worker-b', now: later(2 * LEASE_MS), limit: 10 })).not.toContain(key);
  });

  it('tell a turn whether its conversation owes more than its own replies, and record sent marks of many turns at once', async () => {
    harness = make();
    const { store, repo } = await open();
    const [clear, behind, noticed] = ['clear', 'behind', 'noticed'].map((n) => `msteams:${uniqueName(n)}`) as [string, string, string];
    await Promise.all([clear, behind, noticed].map((k) => store.commitTurn(commitAt(k, 1, T0, pending(`first of ${k}`, 'worker-a', T0)))));
    // `behind` keeps turn 1 pending (its send failed) when turn 2 comes; `noticed` has a kept proactive notice.
    await repo.markDone(clear, 1, 'worker-a', 1, true);
    await repo.markDone(noticed, 1, 'worker-a', 1, true);
    await repo.retryLater(behind, [1], 'worker-a', { error: 'connector away', nextAttemptAt: later(10_000) });
    await new BotConversationsRepository(store).keepUndelivered(noticed, [{ type: 'message', text: 'Your case PCE-000001 was sent.' }], T0);
    const seconds = [clear, behind, noticed].map((k) => commitAt(k, 2, later(1000), pending(`second of ${k}`, 'worker-a', later(1000))));
    await Promise.all(seconds.map((c) => store.commitTurn(c)));
    const expected = [
      { replies: false, notices: false },
      { replies: true, notices: false },
      { replies: false, notices: true },
    ];
    // The batched commit read the answer itself, for the channel to use at once.
    expect(seconds.map((c) => c.replies?.owed)).toEqual(expected);

    // Asked in one pass of the event loop: one statement answers all three.
    const owed = await Promise.all([clear, behind, noticed].map((k) => repo.owed(k, 2)));
    expect(owed).toEqual(expected);

    // Marks of several turns in one pass: each learns whether its claim held; a stranger's mark writes nothing.
    const marks = await Promise.all([
      repo.markDone(clear, 2, 'worker-a', 1, true),
      repo.markDone(noticed, 2, 'worker-a', 1, false),
      repo.markDone(behind, 2, 'worker-b', 1, true),
    ]);
    expect(marks).toEqual([true, true, false]);
    const state = async (k: string) => (await repo.ofConversation(k)).map((r) => [r.turn, r.state, r.done]);
    expect(await state(clear)).toEqual([[2, 'sent', 1]]);
    expect(await state(noticed)).toEqual([[2, 'pending', 1]]);
    expect(await state(behind)).toEqual([
      [1, 'pending', 0],
      [2, 'pending', 0],
    ]);
    // A turn committed in a transaction of its own (a new case) learns it too; replies answered in the response need not.
    store.registerTurnWriter({ name: 'own_transaction', mode: 'transaction', applies: (c) => c.conversation.key === behind, write: async () => undefined });
    const third = commitAt(behind, 3, later(2000), pending('third', 'worker-a', later(2000)));
    const answeredTurn = commitAt(clear, 3, later(2000), answered('in the response'));
    await Promise.all([store.commitTurn(third), store.commitTurn(answeredTurn)]);
    expect(third.replies?.owed).toEqual({ replies: true, notices: false });
    expect(answeredTurn.replies?.owed).toBeUndefined();
  });

  it('a worker whose claim expired and was taken over cannot record over the new holder', async () => {
    harness = make();
    const { store, repo } = await open();
    const key = `msteams:${uniqueName('expired')}`;
    await store.commitTurn(commitAt(key, 1, T0, pending('hello', 'worker-a', T0), 'msteams:e1'));

    const taken = await repo.claimConversation(key, { workerId: 'worker-b', now: later(LEASE_MS + 1), leaseMs: LEASE_MS });
    expect(taken.map((r) => r.turn)).toEqual([1]);

    expect(await repo.markDone(key, 1, 'worker-a', 1, true)).toBe(false);
    await repo.retryLater(key, [1], 'worker-a', { error: 'late', nextAttemptAt: later(10 * LEASE_MS) });
    expect((await repo.ofConversation(key))[0]).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await repo.markDone(key, 1, 'worker-b', 1, true)).toBe(true);
  });

  it('offers a conversation to the worker when its pending replies are due and nobody holds them, oldest turn first', async () => {
    harness = make();
    const { store, repo } = await open();
    const key = `msteams:${uniqueName('due')}`;
    await store.commitTurn(commitAt(key, 1, T0, pending('first', 'worker-a', T0), 'msteams:d1'));
    await store.commitTurn(commitAt(key, 2, T0, pending('second', 'worker-a', T0), 'msteams:d2'));

    // Held by worker-a's live claim from the commit.
    expect(await repo.dueConversations({ workerId: 'worker-a', now: later(1000), limit: 10 })).not.toContain(key);
    // worker-a could not send: due again after its retry time, not before.
    await repo.retryLater(key, [1, 2], 'worker-a', { error: '503', nextAttemptAt: later(30_000) });
    expect(await repo.dueConversations({ workerId: 'worker-b', now: later(29_000), limit: 10 })).not.toContain(key);
    expect(await repo.dueConversations({ workerId: 'worker-b', now: later(30_000), limit: 10 })).toContain(key);

    const claimed = await repo.claimConversation(key, { workerId: 'worker-b', now: later(30_000), leaseMs: LEASE_MS });
    expect(claimed.map((r) => [r.turn, r.attempts])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    // Held now by worker-b (on SQLite from worker-b's own view: another id would be a dead process).
    expect(await repo.dueConversations({ workerId: 'worker-b', now: later(31_000), limit: 10 })).not.toContain(key);
  });

  it('go with their conversation when retention deletes it (they hold what the bot said)', async () => {
    harness = make();
    const { store, repo } = await open();
    const idle = `msteams:${uniqueName('idle')}`;
    const recent = `msteams:${uniqueName('recent')}`;
    await store.commitTurn(commitAt(idle, 1, T0, pending('old@customer.example', 'worker-a', T0), 'msteams:i1'));
    await store.commitTurn(commitAt(recent, 1, later(40 * 24 * 3600_000), answered('recent'), 'msteams:r1'));

    await new RetentionJob({ store, retentionDays: 30, intervalMs: 60_000, logger: silentLogger, clock: () => later(41 * 24 * 3600_000) }).runOnce();

    expect(await repo.ofConversation(idle)).toEqual([]);
    expect(await repo.ofConversation(recent)).toHaveLength(1);
  });

  if (name === 'postgres') {
    it('PostgreSQL: a live claim of another instance holds the whole conversation until its lease expires', async () => {
      harness = make();
      const { store, repo } = await open();
      const key = `msteams:${uniqueName('held')}`;
      await store.commitTurn(commitAt(key, 1, T0, pending('first', 'worker-a', T0), 'msteams:h1'));
      await repo.release(key, [1], 'worker-a', T0);
      // A later turn on instance a holds its own row; the earlier one is free, but the conversation is not.
      await store.commitTurn(commitAt(key, 2, T0, pending('second', 'worker-a', T0), 'msteams:h2'));

      expect(await repo.claimConversation(key, { workerId: 'worker-b', now: later(1000), leaseMs: LEASE_MS })).toEqual([]);
      expect((await repo.claimConversation(key, { workerId: 'worker-b', now: later(LEASE_MS + 1), leaseMs: LEASE_MS })).map((r) => r.turn)).toEqual([1, 2]);
    });

    it('PostgreSQL: two instances claiming one conversation at once never split it', async () => {
      harness = make();
      const { store, repo } = await open();
      const other = new BotRepliesRepository(await harness.open());
      for (let round = 0; round < 10; round++) {
        const key = `msteams:${uniqueName(`race${round}`)}`;
        await store.commitTurn(commitAt(key, 1, T0, pending('first', 'worker-a', T0), `msteams:r1-${round}`));
        await store.commitTurn(commitAt(key, 2, T0, pending('second', 'worker-a', T0), `msteams:r2-${round}`));
        const now = later(LEASE_MS + 1); // worker-a died: both rows free
        const [b, c] = await Promise.all([
          repo.claimConversation(key, { workerId: 'worker-b', now, leaseMs: LEASE_MS }),
          other.claimConversation(key, { workerId: 'worker-c', now, leaseMs: LEASE_MS }),
        ]);
        expect([b.length, c.length].sort()).toEqual([0, 2]);
      }
    });
  } else {
    it('SQLite: a claim of another worker id is from a process that died (one process owns the file) and holds nothing', async () => {
      harness = make();
      const { store, repo } = await open();
      const key = `msteams:${uniqueName('dead')}`;
      await store.commitTurn(commitAt(key, 1, T0, pending('first', 'worker-dead', T0), 'msteams:x1'));

      expect(await repo.dueConversations({ workerId: 'worker-new', now: later(1000), limit: 10 })).toContain(key);
      expect((await repo.claimConversation(key, { workerId: 'worker-new', now: later(1000), leaseMs: LEASE_MS })).map((r) => r.turn)).toEqual([1]);
    });
  }
});
