/**
 * Drives the real application over HTTP as the Bot Framework would: activities are POSTed to
 * /api/messages; replies come back in the HTTP body (`deliveryMode: expectReplies`) or through the
 * fake connector at `serviceUrl`. Replies are parsed back into what a person sees and can press.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { FlowDefinition, StepView } from '../../../dialogs/flow';
import { provisioningContactFlow } from '../../../dialogs/provisioning-contact/machine';
import type { Application, ApplicationOptions } from '../../../src/app';
import { createBotFrameworkChannel, type BotFrameworkChannelDeps } from '../../../src/channels/botframework';
import { loadConfig } from '../../../src/config';
import { Engine } from '../../../src/engine/engine';
import { createTranslator } from '../../../src/i18n';
import { buildServer } from '../../../src/server';
import type { Store } from '../../../src/storage/store';
import { silentLogger, startApp, stopAfterTest, useShared, useTempDir, type Env, type RunningApp, type TempDir } from '../../support';
import { FakeConnector } from './fake-connector';

/** The whole application, as the Bot Framework channel's tests run it. */
export type BotUnderTest = RunningApp;

/** Starts the whole application on a random port with a SQLite file at `dbPath` (the web chat off). */
export function startBot(dbPath: string, env: Env = {}, options: ApplicationOptions = {}): Promise<BotUnderTest> {
  return startApp({ NODE_ENV: 'test', DATABASE_URL: `sqlite:${dbPath}`, WEBCHAT_ENABLED: 'false', ...env }, options);
}

/**
 * One fake connector for the tests of a file: started before the first, closed after the last, and
 * its failure and hold settings reset after each test (what it recorded stays).
 */
export function useFakeConnector(): FakeConnector {
  const connector = new FakeConnector();
  beforeAll(async () => void (await connector.start()));
  afterEach(() => connector.reset());
  afterAll(() => connector.close());
  return connector;
}

/**
 * One bot for the tests of the enclosing block, on a SQLite file in a temp dir of its own or on the
 * database `env` names (a `botDatabases()` dialect: its PostgreSQL schema is dropped after them).
 */
export function useSharedBot(env: Env = {}): BotUnderTest {
  const dir = useTempDir('pce-bf-', 'all');
  return useShared(() => startBot(dir.join('bot.sqlite'), env), env);
}

/** One bot for all the tests of a file, replying through a fake connector (`useFakeConnector`). */
export function useBotWithConnector(): { bot: BotUnderTest; connector: FakeConnector } {
  return { connector: useFakeConnector(), bot: useSharedBot() };
}

export interface BotsPerTest {
  /** The running test's own directory. */
  readonly dir: TempDir;
  /** The SQLite file in it that `start` uses unless told another. */
  readonly db: string;
  /** Starts a bot (on `db` unless given one); it is stopped when the test ends. Again after `stop`: a restart on the same data. */
  start(how?: { db?: string; env?: Env; options?: ApplicationOptions }): Promise<BotUnderTest>;
}

/** Bots for each test of the file, on a SQLite file of the test's own. */
export function useBotsPerTest(): BotsPerTest {
  const dir = useTempDir('pce-bf-');
  return {
    dir,
    get db() {
      return dir.join('bot.sqlite');
    },
    start: async ({ db, env, options } = {}) => stopAfterTest(await startBot(db ?? dir.join('bot.sqlite'), env, options)),
  };
}

/**
 * The Bot Framework channel alone, over the real engine and flow on `store` (opened by the caller),
 * on a server of its own: for what the assembled app cannot be given (the test's own token service,
 * a slow store, a broken repository). `stop` closes the server, then the store.
 */
export async function startChannel(store: Store, deps: Partial<BotFrameworkChannelDeps> = {}, env: Env = {}): Promise<{ url: string; stop(): Promise<void> }> {
  const translator = createTranslator();
  const logger = silentLogger;
  const engine = new Engine({ store, flow: provisioningContactFlow, translator, logger });
  const channel = createBotFrameworkChannel({ config: loadConfig(env), engine, translator, logger, ...deps });
  const server = buildServer({ logger, maxBodyBytes: 262144, plugins: [channel] });
  const { url } = await server.listen(0);
  return {
    url,
    async stop() {
      await server.close(2_000);
      await store.close();
    },
  };
}

export interface ShownChoice {
  label: string;
  /** Teams: what the button submits. */
  data?: { choice: string; step?: string; prompt?: string };
  /** Teams: an Action.Execute button (pressed as an `adaptiveCard/action` invoke), with its verb. */
  verb?: string;
  /** Emulator: what the suggested action types for the person. */
  value?: string;
}

export interface Reply {
  /** The connector's id (normal delivery) or the activity id in the HTTP body (expectReplies). */
  id?: string;
  text: string;
  choices: ShownChoice[];
  card?: { version: string; body: Record<string, unknown>[]; actions: Record<string, unknown>[] };
  raw: Record<string, unknown>;
}

function textOf(element: Record<string, unknown>): string[] {
  if (element.type === 'TextBlock') return [String(element.text)];
  if (element.type === 'FactSet') return (element.facts as { title: string; value: string }[]).map((f) => `${f.title}: ${f.value}`);
  return [];
}

export function parseReply(raw: Record<string, unknown>, id?: string): Reply {
  const attachment = (raw.attachments as { contentType: string; content: Reply['card'] }[] | undefined)?.find(
    (a) => a.contentType === 'application/vnd.microsoft.card.adaptive',
  );
  if (attachment?.content) {
    const card = attachment.content;
    return {
      id,
      raw,
      card,
      text: card.body.flatMap(textOf).join('\n\n'),
      choices: card.actions
        .filter((a) => a.type === 'Action.Submit' || a.type === 'Action.Execute')
        .map((a) => ({ label: String(a.title), data: a.data as ShownChoice['data'], ...(a.type === 'Action.Execute' ? { verb: String(a.verb ?? '') } : {}) })),
    };
  }
  const actions = ((raw.suggestedActions as { actions?: { title: string; value: string }[] } | undefined)?.actions ?? []).map((a) => ({
    label: a.title,
    value: a.value,
  }));
  return { id, raw, text: String(raw.text ?? ''), choices: actions };
}

export interface PersonOptions {
  channelId: 'msteams' | 'emulator';
  locale?: string;
  /** With a connector, replies are sent to it; without, `deliveryMode: expectReplies`. */
  connector?: FakeConnector;
  conversationId?: string;
  userId?: string;
  headers?: Record<string, string>;
}

export interface Exchange {
  status: number;
  replies: Reply[];
  /** An Action.Execute press: the card Teams shows in place of the pressed one (the invoke's answer). */
  refreshed?: Reply['card'];
  /** An invoke's answer as it came (status code, type, value). */
  invokeResponse?: { statusCode?: number; type?: string; value?: unknown };
  /** The activity that was posted (its id, for re-sending). */
  sent: Record<string, unknown>;
}

/** One person in one conversation with the bot. */
export class Person {
  readonly conversationId: string;
  readonly userId: string;
  /** Every reply seen so far, oldest first. */
  readonly seen: Reply[] = [];
  private botUrl: string;

  constructor(botUrl: string, private readonly opts: PersonOptions) {
    this.botUrl = botUrl;
    this.conversationId = opts.conversationId ?? (opts.channelId === 'msteams' ? `a:1${randomUUID()}` : randomUUID());
    this.userId = opts.userId ?? (opts.channelId === 'msteams' ? `29:1${randomUUID()}` : `user-${randomUUID()}`);
  }

  /** After a restart the same person talks to the new server. */
  reconnect(botUrl: string): void {
    this.botUrl = botUrl;
  }

  get key(): string {
    return `${this.opts.channelId}:${this.conversationId}`;
  }

  /** The latest reply. */
  get last(): Reply {
    const reply = this.seen.at(-1);
    if (!reply) throw new Error('the bot has not replied yet');
    return reply;
  }

  activity(fields: Record<string, unknown>): Record<string, unknown> {
    const teams = this.opts.channelId === 'msteams';
    return {
      type: 'message',
      id: teams ? `1${Date.now()}${Math.floor(Math.random() * 1e6)}` : randomUUID(),
      timestamp: new Date().toISOString(),
      localTimestamp: new Date().toISOString(),
      channelId: this.opts.channelId,
      serviceUrl: this.opts.connector?.url ?? 'http://127.0.0.1:9/',
      from: { id: this.userId, name: 'Olena Partner', ...(teams ? { aadObjectId: randomUUID() } : {}) },
      conversation: { id: this.conversationId, ...(teams ? { conversationType: 'personal', tenantId: 'tenant-1' } : {}) },
      recipient: { id: teams ? '28:bot-app-id' : 'bot', name: 'PCE Support' },
      ...(this.opts.locale ? { locale: this.opts.locale } : {}),
      ...(teams ? { channelData: { tenant: { id: 'tenant-1' } }, entities: [{ type: 'clientInfo', locale: this.opts.locale ?? 'en-US', platform: 'Web' }] } : {}),
      ...(this.opts.connector ? {} : { deliveryMode: 'expectReplies' }),
      ...fields,
    };
  }

  /** Posts a prepared activity as it is and collects the replies it caused. */
  async post(activity: Record<string, unknown>): Promise<Exchange> {
    const before = this.opts.connector?.sentTo(this.conversationId).length ?? 0;
    const res = await fetch(`${this.botUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.opts.headers },
      body: JSON.stringify(activity),
    });
    const text = await res.text();
    let replies: Reply[] = [];
    if (activity.deliveryMode !== 'expectReplies' && this.opts.connector) {
      // A slow turn may show "typing…" first; that is not a reply.
      replies = this.opts.connector
        .sentTo(this.conversationId)
        .slice(before)
        .filter((s) => s.activity.type !== 'typing')
        .map((s) => parseReply(s.activity, s.id));
    } else if (res.status === 200 && text) {
      const body = JSON.parse(text) as { activities?: Record<string, unknown>[] };
      replies = (body.activities ?? []).map((a) => parseReply(a, a.id as string | undefined));
    }
    this.seen.push(...replies);
    if (activity.type === 'invoke' && activity.deliveryMode !== 'expectReplies' && text) {
      const invokeResponse = JSON.parse(text) as Exchange['invokeResponse'] & { value?: Reply['card'] };
      const refreshed = invokeResponse?.type === 'application/vnd.microsoft.card.adaptive' ? invokeResponse.value : undefined;
      return { status: res.status, replies, sent: activity, invokeResponse, ...(refreshed ? { refreshed } : {}) };
    }
    return { status: res.status, replies, sent: activity };
  }

  /** The bot is added to the conversation (Teams install, Emulator connect). */
  join(): Promise<Exchange> {
    const teams = this.opts.channelId === 'msteams';
    return this.post(
      this.activity({
        type: 'conversationUpdate',
        membersAdded: teams ? [{ id: '28:bot-app-id' }] : [{ id: this.userId }, { id: 'bot' }],
      }),
    );
  }

  say(text: string): Promise<Exchange> {
    return this.post(this.activity({ text }));
  }

  /**
   * Presses a Teams card button as Teams does: an Action.Execute button sends an `adaptiveCard/action`
   * invoke (its answer replaces the card), an Action.Submit one an empty message whose `value` is the
   * button's data.
   */
  pressOn(reply: Reply, choice: ShownChoice): Promise<Exchange> {
    if (!choice.data) throw new Error('not a card button');
    const replyTo = reply.id ? { replyToId: reply.id } : {};
    if (choice.verb !== undefined) {
      return this.post(
        this.activity({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: choice.verb, data: choice.data }, trigger: 'manual' }, ...replyTo }),
      );
    }
    return this.post(this.activity({ text: '', value: choice.data, ...replyTo }));
  }

  /** Presses a button the way a card sent before Action.Execute does: a message with `value` (answered by updating the card). */
  submitOn(reply: Reply, choice: ShownChoice): Promise<Exchange> {
    const { verb: _verb, ...submit } = choice;
    return this.pressOn(reply, submit);
  }

  /** Picks the offered option `id` (Teams: press; Emulator: the suggested action, typed back). */
  async choose(id: string): Promise<Exchange> {
    const reply = this.last;
    if (this.opts.channelId === 'msteams') {
      const choice = reply.choices.find((c) => c.data?.choice === id);
      expect(choice, `the card offers "${id}" (offered: ${reply.choices.map((c) => c.data?.choice).join(', ')})`).toBeDefined();
      return this.pressOn(reply, choice!);
    }
    throw new Error('on the Emulator, choose by label: chooseLabel()');
  }

  /** Types the label of a suggested action, as the Emulator does when it is clicked. */
  async chooseLabel(label: string): Promise<Exchange> {
    const offered = this.last.choices.map((c) => c.label);
    expect(offered, 'the bot offers this answer').toContain(label);
    return this.say(label);
  }
}

/** The flow's own view of where a stored conversation is: step and outcome, straight from the store. */
export async function storedView(application: Application, key: string, flows: FlowDefinition[] = [provisioningContactFlow]): Promise<StepView> {
  const record = await application.store.loadConversation(key);
  if (!record) throw new Error(`no stored conversation ${key}`);
  const flow = flows.find((f) => f.id === record.flowId);
  if (!flow) throw new Error(`conversation ${key} is in flow ${record.flowId}`);
  const persisted = record.snapshot as { value: never; context: never };
  const snapshot = flow.machine.resolveState({ value: persisted.value, context: persisted.context });
  return flow.view(snapshot as never);
}
