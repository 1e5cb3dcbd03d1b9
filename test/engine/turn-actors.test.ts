/**
 * The engine provides each flow's machine once and routes its actors to the implementations built
 * for the turn they run in (bench: building a machine per turn cost about a third of a turn).
 * These tests pin what that routing must keep: every turn's actors see that turn's scope, even when
 * turns of different conversations are in flight together.
 */
import { fromPromise } from 'xstate';
import { describe, expect, it } from 'vitest';
import { Engine, type TurnScope } from '../../src/engine/engine';
import type { Inbound } from '../../src/engine/types';
import { createTranslator, type Resources } from '../../src/i18n';
import { memoryStore } from '../storage/harness';
import { entryFlow, fixtureResources, intakeFlow } from './fixture-flows';
import { silentLogger } from '../support';

const translator = createTranslator(fixtureResources as unknown as Resources);

async function setup() {
  const store = await memoryStore();
  const scopesBuilt: string[] = [];
  const release: (() => void)[] = [];
  const started: string[] = [];
  const engine = new Engine({
    store,
    flow: entryFlow,
    flows: [intakeFlow],
    translator,
    logger: silentLogger,
    actors: (scope: TurnScope) => {
      scopesBuilt.push(scope.conversationKey);
      return {
        openCase: fromPromise(async () => {
          started.push(scope.conversationKey);
          // Both conversations' actors are in flight before either finishes.
          await new Promise<void>((resolve) => release.push(resolve));
          scope.commit.funnel = [
            { at: scope.now, conversationKey: scope.conversationKey, channel: 'test', locale: scope.locale, mode: 'self', kind: 'outcome', step: 'case', value: `staged-for-${scope.conversationKey}` },
          ];
          return { reference: `REF-${scope.conversationKey}` };
        }),
      };
    },
  });
  const inbound = (conversationId: string, extra: Partial<Inbound>): Inbound => ({ channel: 'test', conversationId, user: { id: `u-${conversationId}` }, ...extra });
  return { store, engine, inbound, scopesBuilt, release, started };
}

describe('actors provided once per flow', () => {
  it('give each concurrent turn its own scope, and commit what each staged with its own conversation', async () => {
    const { store, engine, inbound, release, started } = await setup();
    await engine.handle(inbound('c1', { choice: { id: 'no', step: 'ask' } }));
    await engine.handle(inbound('c2', { choice: { id: 'no', step: 'ask' } }));

    const turns = Promise.all([engine.handle(inbound('c1', { text: 'first' })), engine.handle(inbound('c2', { text: 'second' }))]);
    while (started.length < 2) await new Promise((r) => setImmediate(r));
    // Finish them in the opposite order they started.
    release[1]!();
    release[0]!();
    const [one, two] = await turns;

    expect(one.messages[0]!.paragraphs).toEqual(['Case REF-test:c1 opened.']);
    expect(two.messages[0]!.paragraphs).toEqual(['Case REF-test:c2 opened.']);
    const events = await store.db.selectFrom('funnel_events').select(['conversation_key', 'value']).orderBy('id').execute();
    const staged = events.filter((f) => f.value?.startsWith('staged-for-'));
    expect(staged.map((f) => [f.conversation_key, f.value]).sort()).toEqual([
      ['test:c1', 'staged-for-test:c1'],
      ['test:c2', 'staged-for-test:c2'],
    ]);
  });

  it('builds a turn’s actor implementations only when the turn runs an actor', async () => {
    const { engine, inbound, scopesBuilt, release } = await setup();
    // A first conversation has every flow's machine provided.
    await engine.handle(inbound('c3', { choice: { id: 'no', step: 'ask' } }));
    const first = engine.handle(inbound('c3', { text: 'describe' }));
    while (release.length < 1) await new Promise((r) => setImmediate(r));
    release[0]!();
    await first;

    scopesBuilt.length = 0;
    await engine.handle(inbound('c4', { kind: 'greeting' }));
    await engine.handle(inbound('c4', { choice: { id: 'no', step: 'ask' } }));
    expect(scopesBuilt).toEqual([]);

    const opening = engine.handle(inbound('c4', { text: 'describe' }));
    while (release.length < 2) await new Promise((r) => setImmediate(r));
    release[1]!();
    await opening;
    expect(scopesBuilt).toEqual(['test:c4']);
  });
});
