/** Shared by the provisioning-contact flow tests: the flow's input, its choice events, paths, an engine. */
import { createActor, type SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import type { FlowDefinition, FlowEvent, FlowInput, Locale } from '../../../dialogs/flow';
import { provisioningContactFlow, provisioningContactMachine } from '../../../dialogs/provisioning-contact/machine';
import { Engine } from '../../../src/engine/engine';
import type { Inbound, TurnResult } from '../../../src/engine/types';
import { createTranslator } from '../../../src/i18n';
import { createStore } from '../../../src/storage';
import type { Store } from '../../../src/storage/store';
import { lazy, silentLogger, tempDir, useShared } from '../../support';

export type Snapshot = SnapshotFrom<typeof provisioningContactMachine>;

export const flowInput = (locale: Locale = 'en'): FlowInput => ({
  locale,
  channel: 'test',
  user: { id: 'person-1', name: 'Olena', email: 'olena@example.com' },
  mode: 'self',
  startedAt: '2026-11-25T10:00:00.000Z',
});

/** What a person can do at a step: press one of the offered options (commands aside). */
export const choiceEvents = (s: Snapshot): FlowEvent[] =>
  s.status === 'done'
    ? []
    : provisioningContactFlow
        .view(s)
        .choices.filter((c) => !c.id.startsWith('cmd.'))
        .map((c) => ({ type: 'CHOOSE', choice: c.id }));

/**
 * Every path from the start: the vertex key includes the decision trail, so the state graph is a
 * tree and the shortest path to each vertex is the one and only path to it. The paths ending in a
 * final state are therefore every path from the start to every final state.
 */
export function everyPath() {
  return getShortestPaths(provisioningContactMachine, {
    input: flowInput(),
    events: choiceEvents,
    serializeState: (s) => `${String(s.value)}|${s.context.trail.map((e) => `${e.step}:${e.choice}`).join('>')}`,
  });
}

/**
 * The shortest path to each state of the machine. Vertices are state plus what the flow knows
 * (the same question means different things for an awaiting and a closed order line).
 */
export function pathToEachState() {
  const paths = getShortestPaths(provisioningContactMachine, {
    input: flowInput(),
    events: choiceEvents,
    serializeState: (s) => `${String(s.value)}|${JSON.stringify(s.context.answers)}`,
  });
  const shortest = new Map<string, (typeof paths)[number]>();
  for (const p of paths) {
    const key = String(p.state.value);
    const known = shortest.get(key);
    if (!known || p.steps.length < known.steps.length) shortest.set(key, p);
  }
  return [...shortest.values()];
}

export const choicesOf = (path: { steps: { event: FlowEvent }[] }): string[] =>
  path.steps.flatMap((s) => (s.event.type === 'CHOOSE' ? [s.event.choice] : []));

/** Runs the pure machine through events and returns the snapshot. */
export function run(events: FlowEvent[], input = flowInput()): Snapshot {
  const actor = createActor(provisioningContactMachine, { input }).start();
  for (const e of events) actor.send(e);
  const s = actor.getSnapshot();
  actor.stop();
  return s;
}
export const choose = (...ids: string[]): FlowEvent[] => ids.map((choice) => ({ type: 'CHOOSE', choice }));

export const translator = createTranslator();

/** The real engine over a real SQLite file in a temp dir; `close` closes the store and removes the dir. */
export async function sqliteEngine(flows: FlowDefinition[] = []): Promise<{ engine: Engine; store: Store; close: () => Promise<void> }> {
  const dir = tempDir('pc-flow-');
  const store = createStore(`sqlite:${dir.join('bot.sqlite')}`, silentLogger);
  await store.open();
  const engine = new Engine({ store, flow: provisioningContactFlow, flows, translator, logger: silentLogger, clock: () => new Date('2026-11-25T10:00:00Z') });
  return {
    engine,
    store,
    close: async () => {
      await store.close();
      dir.remove();
    },
  };
}

/** `sqliteEngine` for the tests of the enclosing block: opened before the first, closed after the last. */
export function useSqliteEngine(flows: FlowDefinition[] = []): { engine: Engine; store: Store } {
  const env = useShared(async () => {
    const opened = await sqliteEngine(flows);
    return { ...opened, stop: opened.close };
  });
  return { engine: lazy(() => env.engine, 'the engine'), store: lazy(() => env.store, 'the store') };
}

let seq = 0;
/** One conversation through the engine, as a person in `locale` would have it. */
export function conversation(engine: Engine, locale: Locale) {
  const id = `conv-${process.pid}-${++seq}`;
  const base: Inbound = { channel: 'test', conversationId: id, user: { id: `user-${id}` }, locale };
  let last: TurnResult | undefined;
  const remember = (r: TurnResult) => (last = r);
  return {
    greet: async () => remember(await engine.handle({ ...base, kind: 'greeting' })),
    say: async (text: string) => remember(await engine.handle({ ...base, text })),
    press: async (id: string) => remember(await engine.handle({ ...base, choice: { id, step: last?.step } })),
    get last() {
      return last;
    },
  };
}

export const text = (r: TurnResult | undefined): string => (r?.messages ?? []).flatMap((m) => m.paragraphs).join('\n\n');
