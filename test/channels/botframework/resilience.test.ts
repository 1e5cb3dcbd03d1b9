import { describe, expect, it } from 'vitest';
import { createTranslator } from '../../../src/i18n';
import { createStore } from '../../../src/storage';
import type { Store } from '../../../src/storage/store';
import { captureLogs } from '../../support';
import { Person, storedView, useBotsPerTest, useFakeConnector } from './harness';

const t = createTranslator();
const connector = useFakeConnector();
const bots = useBotsPerTest();

describe('a restart in the middle of a conversation', () => {
  it('continues at the same step: the card sent before the restart is still the current one', async () => {
    const first = await bots.start();
    const person = new Person(first.url, { channelId: 'msteams', locale: 'uk-UA', connector });
    await person.join();
    await person.pressOn(person.last, person.last.choices[0]!);
    const before = await storedView(first.app, person.key);
    const cardBeforeRestart = person.last;
    await first.stop();

    const second = await bots.start();
    person.reconnect(second.url);
    expect((await storedView(second.app, person.key)).step).toBe(before.step);
    const choice = cardBeforeRestart.choices[0]!;
    const { replies, refreshed } = await person.pressOn(cardBeforeRestart, choice);

    const after = await storedView(second.app, person.key);
    expect(after.step).not.toBe(before.step);
    expect(replies[0]!.text).not.toContain(t.t('uk', 'common:stale'));
    expect(JSON.stringify(refreshed)).toContain(t.t('uk', 'botframework:card.yourAnswer', { label: choice.label }));
    const record = await second.app.store.loadConversation(person.key);
    expect(record?.turn).toBe(3);
  });
});

describe('a stored conversation the current flow cannot continue', () => {
  it.each([
    { name: 'saved by an older flow version', change: { flowVersion: 0 }, key: 'common:restartedAfterUpdate' },
    { name: 'whose snapshot fails validation', change: { snapshot: { status: 'active', value: 42 } }, key: 'common:restartedAfterError' },
  ])('restarts politely when it was $name', async ({ change, key }) => {
    const bot = await bots.start();
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'uk-UA', connector });
    await person.join();
    await person.pressOn(person.last, person.last.choices[0]!);
    const record = (await bot.app.store.loadConversation(person.key))!;
    await bot.app.store.commitTurn({ conversation: { ...record, ...change, turn: record.turn + 1 }, transcript: [] });

    const { status, replies } = await person.say('привіт');

    expect(status).toBe(200);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain(t.t('uk', key));
    expect(replies[0]!.choices.length).toBeGreaterThan(0);
    expect((await bot.app.store.loadConversation(person.key))?.flowVersion).toBe(record.flowVersion);
  });
});

describe('graceful shutdown', () => {
  it('stops accepting, lets the in-flight turn finish and deliver its reply, then closes storage', async () => {
    const bot = await bots.start();
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    await person.join();
    // Hold the next reply at the connector: the turn is in flight until it is released.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let replyReached!: () => void;
    const reached = new Promise<void>((resolve) => (replyReached = resolve));
    connector.beforePost = async (conversationId, activity) => {
      if (conversationId !== person.conversationId || activity.type === 'typing') return;
      replyReached();
      await held;
    };
    const card = person.last;
    const pending = person.pressOn(card, card.choices[0]!);
    await reached;

    let closed = false;
    const closing = bot.stop(10_000).then((inTime) => {
      closed = true;
      return inTime;
    });
    await expect(fetch(`${bot.url}/healthz`)).rejects.toThrow();
    expect(closed).toBe(false);

    release();
    const { status, replies } = await pending;
    expect(status).toBe(200);
    expect(replies).toHaveLength(1);
    expect(await closing).toBe(true);
    connector.beforePost = undefined;
    // Storage is closed only after the turn committed: a new store on the file sees the answer.
    const reopened = await bots.start();
    expect((await reopened.app.store.loadConversation(person.key))?.turn).toBe(2);
  });
});

describe('with MicrosoftAppId configured', () => {
  it('refuses an activity without a Bot Framework token with 401 and does not run the turn', async () => {
    const bot = await bots.start({
      env: {
        MicrosoftAppId: '3f1c1a52-5b8e-4a59-9f55-0a7a5d0c4b11',
        MicrosoftAppPassword: 'not-a-real-secret',
      },
    });
    for (const channelId of ['msteams', 'emulator'] as const) {
      const person = new Person(bot.url, { channelId, connector });
      const { status, replies } = await person.say('hello');
      expect(status).toBe(401);
      expect(replies).toEqual([]);
      expect(await bot.app.store.loadConversation(person.key)).toBeUndefined();
    }
  });
});

describe('the error boundary (onTurnError)', () => {
  /** A real SQLite store that fails when one conversation is loaded, as a broken disk would. */
  function failingFor(store: Store, conversationKey: string): Store {
    return new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'loadConversation') {
          return async (key: string) => {
            if (key === conversationKey) throw new Error('disk I/O error while reading for olena.partner@example.com');
            return target.loadConversation(key);
          };
        }
        if (prop === 'loadTurn') {
          // The engine reads a turn's state in one call (Store.loadTurn).
          return async (input: Parameters<Store['loadTurn']>[0]) => {
            if (input.conversationKey === conversationKey) throw new Error('disk I/O error while reading for olena.partner@example.com');
            return target.loadTurn(input);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  it('logs the failure with conversation and activity ids (emails redacted) and apologises in the person’s language', async () => {
    const { lines, logger } = captureLogs('info');
    const person = new Person('http://unused', { channelId: 'emulator', locale: 'uk-UA' });
    const store = failingFor(createStore({ DATABASE_URL: `sqlite:${bots.db}`, DATABASE_POOL_SIZE: 1 }, logger), person.key);
    const bot = await bots.start({ db: bots.dir.join('unused.sqlite'), options: { store, logger } });
    person.reconnect(bot.url);

    const { status, replies, sent } = await person.say('привіт');

    expect(status).toBe(200);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toBe(t.t('uk', 'botframework:error.apology'));
    const record = lines.find((l) => l.msg === 'bot framework turn failed');
    expect(record).toMatchObject({ conversation: person.conversationId, activity: sent.id, channel: 'emulator' });
    const all = JSON.stringify(lines);
    expect(all).not.toContain('olena.partner@example.com');
    expect(all).toContain('[email]');

    const other = new Person(bot.url, { channelId: 'emulator', locale: 'en-US' });
    const next = await other.join();
    expect(next.replies[0]!.choices.length).toBeGreaterThan(0);
  });
});
