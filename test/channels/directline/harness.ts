/** Starts the whole bot (real SQLite store in a temp dir, real engine and bridge) on a random loopback port. */
import { rmSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Application } from '../../../src/app';
import { dataIn, startApp, stopAfterTest, tempDir, useShared, type Env } from '../../support';

export interface RunningBot {
  app: Application;
  url: string;
  dir: string;
  /** Stops the server; the temp dir (SQLite file, uploads) is removed unless `keepData`. */
  stop(keepData?: boolean): Promise<void>;
}

/** The whole bot with its data (SQLite file, uploads) in `existingDir`, or in a new temp dir. */
export async function startBot(env: Env = {}, existingDir?: string): Promise<RunningBot> {
  const dir = existingDir ?? tempDir('webchat-').path;
  const running = await startApp({ ...dataIn(dir), ...env });
  return {
    app: running.app,
    url: running.url,
    dir,
    async stop(keepData = false) {
      await running.stop();
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `startBot` for the running test: stopped, its data removed, when the test ends. */
export async function startBotForTest(env: Env = {}): Promise<RunningBot> {
  return stopAfterTest(await startBot(env));
}

export interface StartedConversation {
  conversationId: string;
  token: string;
  userId: string;
}

export interface ActivitySet {
  activities: Array<Record<string, unknown> & { id: string; type: string; timestamp: string; from: { id: string; role?: string } }>;
  watermark: string;
}

export class DirectLineTestClient {
  constructor(readonly base: string) {}

  async start(headers: Record<string, string> = {}, body: unknown = {}): Promise<Response> {
    return fetch(`${this.base}/directline/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  async startOk(body: unknown = {}): Promise<StartedConversation> {
    const res = await this.start({}, body);
    if (res.status !== 201) throw new Error(`start conversation: ${res.status}`);
    return (await res.json()) as StartedConversation;
  }

  post(c: Pick<StartedConversation, 'conversationId' | 'token'>, activity: unknown): Promise<Response> {
    return fetch(`${this.base}/directline/conversations/${c.conversationId}/activities`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` },
      body: JSON.stringify(activity),
    });
  }

  get(c: Pick<StartedConversation, 'conversationId' | 'token'>, watermark = ''): Promise<Response> {
    return fetch(`${this.base}/directline/conversations/${c.conversationId}/activities?watermark=${watermark}`, {
      headers: { authorization: `Bearer ${c.token}` },
    });
  }

  async getOk(c: Pick<StartedConversation, 'conversationId' | 'token'>, watermark = ''): Promise<ActivitySet> {
    const res = await this.get(c, watermark);
    if (res.status !== 200) throw new Error(`get activities: ${res.status}`);
    return (await res.json()) as ActivitySet;
  }
}

/** Rows of a web chat conversation's activity log in the bot's database. */
export async function storedActivities(bot: RunningBot, conversationId: string): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const db = (bot.app.store as unknown as { db: Kysely<any> }).db;
  const row = await db
    .selectFrom('directline_activities')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('conversation_id', '=', conversationId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * One bot for a whole describe block, on `env` (a `botDatabases()` dialect): started before its tests,
 * stopped after them with its PostgreSQL schema dropped. Read `dl` and call `stored` inside tests.
 */
export function sharedBot(env: Env): { readonly dl: DirectLineTestClient; stored(conversationId: string): Promise<number> } {
  const bot = useShared(() => startBot(env), env);
  return {
    get dl() {
      return new DirectLineTestClient(bot.url);
    },
    stored: (conversationId) => storedActivities(bot, conversationId),
  };
}
