/**
 * Issue 19: follow-up and rating rows are written by the batched turn commit itself (batch turn
 * writers), on SQLite inside the group commit's transaction and on PostgreSQL in the one statement
 * of the pass, with the same rows as when each such turn had a transaction of its own: in a turn the
 * cancellations come before the follow-ups it accepts and the answers after them, comments after
 * ratings; a refused turn writes none of them, and a turn whose rows cannot be written fails alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CaseIntakeInput } from '../../dialogs/support-case/case-draft';
import { FollowupsRepository, type FollowupsDatabase, type FollowupWrites, type NewFollowup } from '../../src/followups/repository';
import { SatisfactionRepository, type NewRating, type SatisfactionDatabase } from '../../src/followups/satisfaction-repository';
import { DuplicateActivityError } from '../../src/storage/errors';
import { fromJson, toIso } from '../../src/storage/schema';
import type { SqlStore } from '../../src/storage';
import type { TurnCommit } from '../../src/storage/store';
import { nextIso, postgresHarness, sqliteHarness, turnCommit, type StoreHarness } from '../storage/harness';
import { uniqueName } from '../support';

const INTAKE: CaseIntakeInput = {
  flowInput: { locale: 'uk', channel: 'msteams', user: { id: 'u-1' }, mode: 'self', startedAt: '2026-03-01T09:00:00.000Z' },
  draft: { orderNumber: '1234', newContactEmail: 'new@partner.example' },
};

function followup(id: string, conversationKey: string, intake?: CaseIntakeInput): NewFollowup {
  return {
    id,
    conversationKey,
    ending: 'changeConfirmed',
    channel: 'msteams',
    mode: 'self',
    hours: 1.5,
    dueAt: '2026-03-02T10:00:00.000Z',
    ...(intake ? { intake } : {}),
    createdAt: '2026-03-01T10:00:00.000Z',
  };
}

function rating(id: string, value: 'up' | 'down' = 'up'): NewRating {
  return { id, flow: 'provisioning-contact', ending: 'changeConfirmed', outcome: 'resolved', locale: 'uk', channel: 'msteams', mode: 'self', rating: value, at: nextIso() };
}

function commit(key: string, turn: number, rows: { followups?: FollowupWrites; satisfaction?: TurnCommit['satisfaction'] }, activityKey = `msteams:${uniqueName('a')}`) {
  return turnCommit(key, turn, { activityKey, ...rows });
}

/** Code-point order, whatever the database's collation. */
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);

describe.each([
  { name: 'sqlite', make: sqliteHarness },
  { name: 'postgres', make: postgresHarness },
])('follow-up and rating rows on $name', ({ make }) => {
  let harness: StoreHarness;
  afterEach(async () => {
    await harness.cleanup();
  });

  async function open(): Promise<SqlStore> {
    const store = await harness.open();
    new FollowupsRepository(store);
    new SatisfactionRepository(store);
    return store;
  }

  /** Turns committed by the batched commit so far (SQLite's group commit, PostgreSQL's batch statement). */
  const batchedTurns = (store: SqlStore) => store.groupCommits?.turns ?? store.pgBatches!.turnsCommitted;

  async function followupRows(store: SqlStore, ids: string[]) {
    const rows = await store.db
      .withTables<FollowupsDatabase>()
      .selectFrom('followups')
      .selectAll()
      .where('id', 'in', ids)
      .execute();
    return rows.sort(byId).map((r) => ({
      ...r,
      hours: Number(r.hours),
      attempts: Number(r.attempts),
      data: r.data === null ? null : fromJson(r.data),
      due_at: toIso(r.due_at),
      created_at: toIso(r.created_at),
      settled_at: r.settled_at === null ? null : toIso(r.settled_at),
      claimed_until: r.claimed_until === null ? null : toIso(r.claimed_until),
    }));
  }

  async function ratings(store: SqlStore, ids: string[]) {
    const rows = await store.db.withTables<SatisfactionDatabase>().selectFrom('satisfaction').selectAll().where('id', 'in', ids).execute();
    return rows.sort(byId).map((r) => ({ ...r, at: toIso(r.at) }));
  }

  it('are committed in the batch with the other turns of the pass, and never for a refused turn', async () => {
    harness = make();
    const store = await open();
    const [k0, k1, k2, k3] = [0, 1, 2, 3].map((i) => `msteams:${uniqueName(`batch${i}`)}`) as [string, string, string, string];
    const earlier = `fu-${uniqueName('earlier')}`;
    await store.commitTurn(commit(k3, 1, { followups: { scheduled: [followup(earlier, k3)] } }));
    const cancelledAt = nextIso();
    const before = { batches: store.commitBatches, turns: batchedTurns(store) };
    // One pass of the event loop: an offer accepted with a rating, a plain turn, a rating alone, and
    // the next message of a conversation with a pending follow-up, which cancels it.
    await Promise.all([
      store.commitTurn(commit(k0, 1, { followups: { scheduled: [followup(`fu-${k0}`, k0, INTAKE)] }, satisfaction: { rated: [rating(`r-${k0}`)] } })),
      store.commitTurn(commit(k1, 1, {})),
      store.commitTurn(commit(k2, 1, { satisfaction: { rated: [rating(`r-${k2}`, 'down')] } })),
      store.commitTurn(commit(k3, 2, { followups: { cancelled: [{ conversationKey: k3, reason: 'wrote', at: cancelledAt }] } })),
    ]);
    expect(store.commitBatches - before.batches).toBe(1);
    expect(batchedTurns(store) - before.turns).toBe(4);

    expect(await followupRows(store, [`fu-${k0}`, earlier])).toEqual(
      [
        {
          id: `fu-${k0}`, conversation_key: k0, ending: 'changeConfirmed', channel: 'msteams', mode: 'self', hours: 1.5, status: 'pending',
          due_at: '2026-03-02T10:00:00.000Z', attempts: 0, claimed_by: null, claimed_until: null, data: { intake: INTAKE }, answer: null,
          cancel_reason: null, created_at: '2026-03-01T10:00:00.000Z', settled_at: null,
        },
        {
          id: earlier, conversation_key: k3, ending: 'changeConfirmed', channel: 'msteams', mode: 'self', hours: 1.5, status: 'cancelled',
          due_at: '2026-03-02T10:00:00.000Z', attempts: 0, claimed_by: null, claimed_until: null, data: null, answer: null,
          cancel_reason: 'wrote', created_at: '2026-03-01T10:00:00.000Z', settled_at: cancelledAt,
        },
      ].sort(byId),
    );
    expect((await ratings(store, [`r-${k0}`, `r-${k2}`])).map((r) => [r.id, r.rating, r.comment, r.locale])).toEqual(
      [[`r-${k0}`, 'up', null, 'uk'], [`r-${k2}`, 'down', null, 'uk']].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );

    // An activity already processed, batched with a good turn: refused, and none of its rows are written.
    await store.commitTurn(commit(k1, 2, {}, 'msteams:twice'));
    const [refused, next] = await Promise.allSettled([
      store.commitTurn(
        commit(k1, 3, { followups: { scheduled: [followup(`fu-again-${k1}`, k1)] }, satisfaction: { rated: [rating(`r-again-${k1}`)] } }, 'msteams:twice'),
      ),
      store.commitTurn(commit(k2, 2, { followups: { scheduled: [followup(`fu-${k2}`, k2)] } })),
    ]);
    expect(refused).toMatchObject({ status: 'rejected', reason: expect.any(DuplicateActivityError) });
    expect(next.status).toBe('fulfilled');
    expect(await followupRows(store, [`fu-again-${k1}`])).toEqual([]);
    expect(await ratings(store, [`r-again-${k1}`])).toEqual([]);
    expect((await followupRows(store, [`fu-${k2}`])).map((r) => r.status)).toEqual(['pending']);

    // A turn that also has rows for a transaction turn writer (a new case) writes them in its own transaction.
    const own = `msteams:${uniqueName('own')}`;
    store.registerTurnWriter({ name: 'own_transaction', mode: 'transaction', applies: (c) => c.conversation.key === own, write: async () => undefined });
    await store.commitTurn(commit(own, 1, { followups: { scheduled: [followup(`fu-${own}`, own)] }, satisfaction: { rated: [rating(`r-${own}`)] } }));
    expect((await followupRows(store, [`fu-${own}`])).map((r) => r.status)).toEqual(['pending']);
    expect(await ratings(store, [`r-${own}`])).toHaveLength(1);
  });

  it('apply in a turn as written: cancellations, then new follow-ups, then answers; ratings, then comments', async () => {
    harness = make();
    const store = await open();
    const key = `msteams:${uniqueName('order')}`;
    const [old, fresh] = [`fu-1-${key}`, `fu-2-${key}`];
    await store.commitTurn(commit(key, 1, { followups: { scheduled: [followup(old, key, INTAKE)] }, satisfaction: { rated: [rating(`r-1-${key}`)] } }));
    const [stoppedAt, wroteAt] = [nextIso(), nextIso()];
    await store.commitTurn(
      commit(key, 2, {
        followups: {
          // The first reason stands (the second finds nothing pending); the new follow-up stays pending.
          cancelled: [{ conversationKey: key, reason: 'stopped', at: stoppedAt }, { conversationKey: key, reason: 'wrote', at: wroteAt }],
          scheduled: [followup(fresh, key)],
          answered: [{ id: old, answer: 'not_arrived' }, { id: old, answer: 'arrived' }, { id: fresh, answer: 'not_arrived' }],
        },
        satisfaction: {
          rated: [rating(`r-2-${key}`, 'down')],
          commented: [{ id: `r-1-${key}`, comment: 'first' }, { id: `r-1-${key}`, comment: 'second' }, { id: `r-2-${key}`, comment: 'on the new one' }],
        },
      }),
    );
    expect((await followupRows(store, [old, fresh])).map((r) => [r.id, r.status, r.cancel_reason, r.settled_at, r.data, r.answer])).toEqual([
      [old, 'cancelled', 'stopped', stoppedAt, null, 'arrived'],
      [fresh, 'pending', null, null, {}, 'not_arrived'],
    ]);
    expect((await ratings(store, [`r-1-${key}`, `r-2-${key}`])).map((r) => [r.id, r.rating, r.comment])).toEqual([
      [`r-1-${key}`, 'up', 'second'],
      [`r-2-${key}`, 'down', 'on the new one'],
    ]);
  });

  it('fail only their own turn when they cannot be written, and nothing of that turn is written', async () => {
    harness = make();
    const store = await open();
    const keys = [0, 1, 2, 3].map((i) => `msteams:${uniqueName(`fail${i}`)}`);
    const taken = `fu-${uniqueName('taken')}`;
    await store.commitTurn(commit(`msteams:${uniqueName('first')}`, 1, { followups: { scheduled: [followup(taken, 'msteams:first')] } }));
    const results = await Promise.allSettled(
      keys.map((k, i) =>
        store.commitTurn(
          commit(k, 1, {
            // 1: a follow-up whose id is taken (the database refuses it); 2: one whose intake is not one (refused before the database).
            followups: { scheduled: [followup(i === 1 ? taken : `fu-${k}`, k, i === 2 ? ({ draft: 'none' } as unknown as CaseIntakeInput) : undefined)] },
            satisfaction: { rated: [rating(`r-${k}`)] },
          }),
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    for (const [i, k] of keys.entries()) {
      const failed = i === 1 || i === 2;
      expect(await store.loadConversation(k)).toEqual(failed ? undefined : expect.objectContaining({ turn: 1 }));
      expect(await store.loadTranscript(k)).toHaveLength(failed ? 0 : 2);
      expect(await ratings(store, [`r-${k}`])).toHaveLength(failed ? 0 : 1);
      expect(await followupRows(store, [`fu-${k}`])).toHaveLength(failed ? 0 : 1);
    }
    expect((await followupRows(store, [taken])).map((r) => r.conversation_key)).toEqual(['msteams:first']);
  });
});
