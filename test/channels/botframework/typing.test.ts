/**
 * The typing indicator: a turn still running after `typingAfterMs` shows "typing…" before its answer.
 * The turn is held (its commit waits on a gate in a real SQLite store) rather than timed.
 */
import { describe, expect, it } from 'vitest';
import { createStore } from '../../../src/storage';
import type { Store } from '../../../src/storage/store';
import { silentLogger, stopAfterTest, testDir } from '../../support';
import { Person, startChannel, useFakeConnector } from './harness';

const connector = useFakeConnector();

/** Commits wait until `open()` is called, so the turn stays in flight as long as the test wants. */
function gatedStore(inner: Store) {
  let open = true;
  let release = () => {};
  let gate = Promise.resolve();
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'commitTurn') return async (...args: Parameters<Store['commitTurn']>) => (await gate, target.commitTurn(...args));
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    store,
    close() {
      open = false;
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    open() {
      if (!open) release();
      open = true;
    },
  };
}

/** The channel alone with a gated store, stopped (and its directory removed) when the test ends. */
async function startGated(typingAfterMs: number) {
  const dir = testDir('pce-bf-');
  const gated = gatedStore(createStore({ DATABASE_URL: `sqlite:${dir.join('bot.sqlite')}`, DATABASE_POOL_SIZE: 1 }, silentLogger));
  await gated.store.open();
  const { url } = stopAfterTest(await startChannel(gated.store, { typingAfterMs }));
  return { url, gate: gated };
}

describe('typing indicator', () => {
  it('is sent while a slow turn runs, and before its answer', async () => {
    const { url, gate } = await startGated(0);
    const person = new Person(url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    let typingSeen!: () => void;
    const typing = new Promise<void>((resolve) => (typingSeen = resolve));
    connector.beforePost = async (_conversation, activity) => {
      if (activity.type === 'typing') typingSeen();
    };
    gate.close();

    const pending = person.pressOn(person.last, person.last.choices[0]!);
    await typing;
    gate.open();
    await pending;

    const kinds = connector.sentTo(person.conversationId).slice(-2).map((s) => s.activity.type);
    expect(kinds).toEqual(['typing', 'message']);
  });

  it('is not sent when the turn finishes first', async () => {
    const { url } = await startGated(60_000);
    const person = new Person(url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    await person.pressOn(person.last, person.last.choices[0]!);
    expect(connector.sentTo(person.conversationId).map((s) => s.activity.type)).toEqual(['message', 'message']);
  });
});
