/**
 * The typing indicator: a turn still running after `typingAfterMs` shows "typing…" before its answer.
 * The turn is held (its commit waits on a gate in a real SQLite store) rather than timed.
 */
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { provisioningContactFlow } from '../../../dialogs/provisioning-contact/machine';
import { createBotFrameworkChannel } from '../../../src/channels/botframework';
import { loadConfig } from '../../../src/config';
import { Engine } from '../../../src/engine/engine';
import { createTranslator } from '../../../src/i18n';
import { createLogger } from '../../../src/log';
import { buildServer, type App } from '../../../src/server';
import { createStore } from '../../../src/storage';
import type { Store } from '../../../src/storage/store';
import { FakeConnector } from './fake-connector';
import { Person, tempDir } from './harness';

const logger = createLogger('silent');
const translator = createTranslator();
const connector = new FakeConnector();
let dir: ReturnType<typeof tempDir>;
let store: Store;
let app: App;

beforeAll(async () => {
  await connector.start();
});
afterAll(async () => {
  await connector.close();
});
afterEach(async () => {
  await app.close(2_000);
  await store.close();
  dir.remove();
  connector.beforePost = undefined;
});

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

async function startChannel(typingAfterMs: number) {
  dir = tempDir();
  const gated = gatedStore(createStore({ DATABASE_URL: `sqlite:${join(dir.path, 'bot.sqlite')}`, DATABASE_POOL_SIZE: 1 }, logger));
  store = gated.store;
  await store.open();
  const engine = new Engine({ store, flow: provisioningContactFlow, translator, logger });
  const config = loadConfig({});
  app = buildServer({ logger, maxBodyBytes: 262144, plugins: [createBotFrameworkChannel({ config, engine, translator, logger, typingAfterMs })] });
  const { url } = await app.listen(0);
  return { url, gate: gated };
}

describe('typing indicator', () => {
  it('is sent while a slow turn runs, and before its answer', async () => {
    const { url, gate } = await startChannel(0);
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
    const { url } = await startChannel(60_000);
    const person = new Person(url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    await person.pressOn(person.last, person.last.choices[0]!);
    expect(connector.sentTo(person.conversationId).map((s) => s.activity.type)).toEqual(['message', 'message']);
  });
});
