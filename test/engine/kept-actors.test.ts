/**
 * Issue 19: a flow actor kept live after its turn (ended flows too) must answer the next turn exactly
 * as the same actor restored from the stored snapshot would, and where a turn resumes from is
 * persisted only when asked for, as it stood before the event.
 */
import { createActor } from 'xstate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine } from '../../src/engine/engine';
import { FlowActors, persistLater } from '../../src/engine/flow-actors';
import type { Inbound } from '../../src/engine/types';
import { createTranslator, type Resources } from '../../src/i18n';
import type { SqlStore } from '../../src/storage/sql-store';
import { memoryStore } from '../storage/harness';
import { silentLogger } from '../support';
import { entryFlow, entryMachine, fixtureResources, intakeFlow } from './fixture-flows';

const translator = createTranslator(fixtureResources as unknown as Resources);
const clock = () => new Date('2026-01-01T00:00:00.000Z');
const engineOn = (store: SqlStore) => new Engine({ store, flow: entryFlow, flows: [intakeFlow], translator, logger: silentLogger, clock });

let activity = 0;
const inbound = (conversationId: string, extra: Partial<Inbound>): Inbound => ({
  channel: 'test',
  conversationId,
  user: { id: 'u' },
  activityId: `a${++activity}`,
  ...extra,
});

/** The stored conversation, as the next turn would load it. */
async function stored(store: SqlStore, conversationId: string) {
  const { conversation } = await store.loadTurn({ conversationKey: `test:${conversationId}`, userKey: 'test:u' });
  const { key: _key, ...rest } = conversation!;
  return rest;
}

afterEach(() => vi.restoreAllMocks());

describe('flow actors kept between turns', () => {
  it('go on from an ending without a restore, answering and storing what a restored one does', async () => {
    const store = await memoryStore();
    const kept = engineOn(store);
    for (const id of ['live', 'restored']) {
      await kept.handle(inbound(id, { kind: 'greeting' }));
      const ended = await kept.handle(inbound(id, { choice: { id: 'yes', step: 'ask' } }));
      expect(ended.outcome).toBe('resolved');
    }
    const restore = vi.spyOn(FlowActors.prototype, 'restore');
    // The engine that ran the turns keeps the ended actor; a new one (another instance) has to restore it.
    const live = await kept.handle(inbound('live', { text: 'nope' }));
    expect(restore).not.toHaveBeenCalled();
    const restored = await engineOn(store).handle(inbound('restored', { text: 'nope' }));
    expect(restore).toHaveBeenCalledTimes(1);

    expect(live.messages).toEqual(restored.messages);
    expect(live.messages[0]!.paragraphs).toEqual(['Started again.', 'Did it work?']);
    expect(await stored(store, 'live')).toEqual(await stored(store, 'restored'));
  });

  it('go back from an ending to the question before it, as a restored one does', async () => {
    const store = await memoryStore();
    const kept = engineOn(store);
    for (const id of ['live', 'restored']) {
      await kept.handle(inbound(id, { kind: 'greeting' }));
      await kept.handle(inbound(id, { choice: { id: 'yes', step: 'ask' } }));
    }
    const live = await kept.handle(inbound('live', { choice: { id: 'cmd.back' } }));
    const restored = await engineOn(store).handle(inbound('restored', { choice: { id: 'cmd.back' } }));
    expect(live.step).toBe('ask');
    expect(live.messages).toEqual(restored.messages);
    expect(await stored(store, 'live')).toEqual(await stored(store, 'restored'));
  });
});

describe('the row kept with a live actor', () => {
  it('stands in for the stored row while the store is at its turn: the row is not read again, and the answer is the same', async () => {
    const store = await memoryStore();
    const kept = engineOn(store);
    for (const id of ['live', 'restored']) await kept.handle(inbound(id, { kind: 'greeting' }));
    const loads = vi.spyOn(store, 'loadTurn');
    const live = await kept.handle(inbound('live', { choice: { id: 'no', step: 'ask' } }));
    expect(await loads.mock.results[0]!.value).toEqual({ processed: false, unchanged: true, userLocale: undefined });
    const restored = await engineOn(store).handle(inbound('restored', { choice: { id: 'no', step: 'ask' } }));
    expect((await loads.mock.results[1]!.value).conversation?.turn).toBe(1);
    expect(live.messages).toEqual(restored.messages);
    expect(await stored(store, 'live')).toEqual(await stored(store, 'restored'));
  });

  it('is not used once the conversation is gone from the store (retention): the person starts anew', async () => {
    const store = await memoryStore();
    const kept = engineOn(store);
    await kept.handle(inbound('gone', { kind: 'greeting' }));
    await kept.handle(inbound('gone', { choice: { id: 'no', step: 'ask' } }));
    await store.db.deleteFrom('conversations').where('key', '=', 'test:gone').execute();
    const next = await kept.handle(inbound('gone', { text: 'hello again' }));
    expect(next.step).toBe('ask');
    expect((await stored(store, 'gone')).turn).toBe(1);
  });
});

describe('persistLater', () => {
  it('persists the snapshot the actor stood at when asked, not the one it has moved on to', () => {
    const actor = createActor(entryMachine, { input: { locale: 'en', channel: 'test', user: { id: 'u' }, mode: 'self', startedAt: 'x' } }).start();
    const before = actor.getPersistedSnapshot();
    const later = persistLater(actor);
    actor.send({ type: 'CHOOSE', choice: 'yes' });
    expect(actor.getSnapshot().status).toBe('done');
    expect(later()).toEqual(before);
    expect(later()).toBe(later());
  });
});
