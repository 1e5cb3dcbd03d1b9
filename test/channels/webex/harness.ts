/**
 * Starts the assembled bot (createApplication: real engine, flows, SQLite file) with a Webex channel
 * pointed at a fake Webex API, registers the webhooks through the same code `npm run webex:webhooks`
 * uses, and offers helpers that read the bot's replies the way a person would: the last card's
 * buttons, its markdown.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Application } from '../../../src/app';
import { WebexApi, type WebexApiOptions } from '../../../src/channels/webex/api';
import { WebexChannel, type WebexInboxOptions } from '../../../src/channels/webex/channel';
import { ensureWebhooks } from '../../../src/channels/webex/webhooks';
import type { Inbound, TurnResult } from '../../../src/engine/types';
import type { Translator } from '../../../src/i18n';
import { createApp, serve, silentLogger, testConfig, useTempDir, waitFor, type RunningApp, type TempDir } from '../../support';
import { FakeWebex, type FakeMessage, type FakePerson, type FakeRoom } from './fake-webex';

export const SECRET = 'test-webhook-secret-0123456789';

export interface RunningBot extends RunningApp {
  channel: WebexChannel;
  inbounds: Inbound[];
  results: TurnResult[];
  /** Waits until the fake has delivered everything and the bot has handled all of it. */
  settle(): Promise<void>;
  /** Settles, then closes the app. Once: again does nothing more. */
  stop(): Promise<boolean>;
}

/** Waits (without asserting on time) until `check` holds; fails naming `what` after 15 s. */
export function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  return waitFor(check, what, 15_000);
}

export interface StartOptions {
  translator?: Translator;
  secret?: string;
  maxBodyBytes?: number;
  registerWebhooks?: boolean;
  /** Another database than the SQLite file (PostgreSQL for several instances), and its schema. */
  databaseUrl?: string;
  databaseSchema?: string;
  inbox?: WebexInboxOptions;
  /** The API client's retry and timeout settings (e.g. a short per-attempt timeout). */
  api?: Partial<Pick<WebexApiOptions, 'timeoutMs' | 'maxRetries' | 'maxRateLimitWaits' | 'maxRetryAfterMs'>>;
  /** Runs after each turn, before its replies are posted (e.g. to stall the process there). */
  afterTurn?: (result: TurnResult) => void | Promise<void>;
}

export async function startBot(fake: FakeWebex, dbFile: string, options: StartOptions = {}): Promise<RunningBot> {
  // No WEBEX_BOT_TOKEN here: the test builds its own channel (to wait for it); app.test.ts covers the wiring.
  const config = testConfig({
    DATABASE_URL: options.databaseUrl ?? `sqlite:${dbFile}`,
    ...(options.databaseSchema ? { DATABASE_SCHEMA: options.databaseSchema } : {}),
    MAX_BODY_BYTES: String(options.maxBodyBytes ?? 262144),
  });
  const inbounds: Inbound[] = [];
  const results: TurnResult[] = [];
  let app: Application | undefined;
  const api = new WebexApi({ baseUrl: fake.url, token: fake.token, logger: silentLogger, backoffMs: 20, ...options.api });
  const channel = new WebexChannel({
    api,
    engine: {
      handle: async (inbound) => {
        inbounds.push(inbound);
        const result = await app!.engine.handle(inbound);
        results.push(result);
        await options.afterTurn?.(result);
        return result;
      },
    },
    get store() {
      return app!.store;
    },
    get translator() {
      return app!.translator;
    },
    logger: silentLogger,
    secret: options.secret ?? SECRET,
    maxBodyBytes: config.MAX_BODY_BYTES,
    inbox: options.inbox,
  });
  app = await createApp(config, { plugins: [channel], translator: options.translator });
  const running = await serve(app);
  const { url } = running;
  if (options.registerWebhooks !== false) await ensureWebhooks(api, { publicUrl: url, secret: options.secret ?? SECRET });
  const settle = async () => {
    for (let round = 0; round < 100; round++) {
      await fake.idle();
      await channel.drain();
      if (!fake.busy && !channel.busy) return;
    }
    throw new Error('the bot and the fake Webex never settled');
  };
  let stopping: Promise<boolean> | undefined;
  return {
    app,
    channel,
    url,
    inbounds,
    results,
    settle,
    stop: () =>
      (stopping ??= (async () => {
        await settle();
        return running.stop();
      })()),
  };
}

export interface CardAction {
  type: string;
  title: string;
  data?: { choice?: string; step?: string };
  url?: string;
}

/** The bot's latest message in the room that carries a card, with its actions. */
export function lastCard(fake: FakeWebex, room: FakeRoom): { message: FakeMessage; actions: CardAction[]; body: unknown[] } {
  const message = fake.visible(room.id).filter((m) => m.attachments?.length).pop();
  if (!message) throw new Error('the bot has not shown a card in this room');
  const content = message.attachments![0]!.content as { actions?: CardAction[]; body?: unknown[] };
  return { message, actions: content.actions ?? [], body: content.body ?? [] };
}

export function offeredChoices(fake: FakeWebex, room: FakeRoom): { id: string; label: string; step?: string }[] {
  return lastCard(fake, room)
    .actions.filter((a) => a.type === 'Action.Submit' && a.data?.choice)
    .map((a) => ({ id: a.data!.choice!, label: a.title, step: a.data!.step }));
}

/** Presses the button for `choiceId` on the latest card, as a person in Webex would. */
export async function press(bot: RunningBot, fake: FakeWebex, room: FakeRoom, person: FakePerson, choiceId: string): Promise<string> {
  const card = lastCard(fake, room);
  const action = card.actions.find((a) => a.data?.choice === choiceId);
  if (!action) throw new Error(`no button "${choiceId}" on the card; offered: ${card.actions.map((a) => a.data?.choice ?? a.title).join(', ')}`);
  await fake.userSubmits(room, person, card.message.id, { ...action.data });
  await bot.settle();
  return card.message.id;
}

/** Types the label of `choiceId` (as shown on the latest card) instead of pressing it. */
export async function typeChoice(bot: RunningBot, fake: FakeWebex, room: FakeRoom, person: FakePerson, choiceId: string): Promise<void> {
  const choice = offeredChoices(fake, room).find((c) => c.id === choiceId);
  if (!choice) throw new Error(`"${choiceId}" is not offered; offered: ${offeredChoices(fake, room).map((c) => c.id).join(', ')}`);
  await fake.userSays(room, person, choice.label);
  await bot.settle();
}

export async function say(bot: RunningBot, fake: FakeWebex, room: FakeRoom, person: FakePerson, text: string): Promise<void> {
  await fake.userSays(room, person, text);
  await bot.settle();
}

export function markdownSince(fake: FakeWebex, room: FakeRoom, index: number): string {
  return fake.posted
    .filter((m) => m.roomId === room.id)
    .slice(index)
    .map((m) => m.markdown ?? '')
    .join('\n\n');
}

export interface FakeWebexSuite {
  /** The file's temp dir. */
  tmp: TempDir;
  /** Bots the running test started: stopped after it, before the fake is reset. */
  running: RunningBot[];
  /** A new SQLite file in the temp dir. */
  freshDb(): string;
  /** Starts a bot on the fake (on a fresh file unless given `db`), stopped after the test. */
  start(options?: StartOptions, db?: string): Promise<RunningBot>;
}

/**
 * One fake Webex for a test file: started before its first test, reset (and the bots of a test
 * stopped) after each, closed with the temp dir after the last. `started` hands the fake over.
 */
export function useFakeWebex(started: (fake: FakeWebex) => void, dbPrefix = 'bot'): FakeWebexSuite {
  let fake: FakeWebex | undefined;
  const tmp = useTempDir('webex-test-', 'all');
  const running: RunningBot[] = [];
  let dbCounter = 0;
  beforeAll(async () => {
    fake = await FakeWebex.start();
    started(fake);
  });
  afterEach(async () => {
    for (const b of running.splice(0)) await b.stop();
    fake?.webhooks.clear(); // each test registers its own bot's webhooks
    fake?.reset(); // nothing scripted for one test (a stall, seen or not) acts in, or counts for, the next
  });
  afterAll(async () => {
    await fake?.close();
  });
  const freshDb = () => tmp.join(`${dbPrefix}-${++dbCounter}.sqlite`);
  return {
    tmp,
    running,
    freshDb,
    async start(options = {}, db = freshDb()) {
      const b = await startBot(fake!, db, options);
      running.push(b);
      return b;
    },
  };
}
