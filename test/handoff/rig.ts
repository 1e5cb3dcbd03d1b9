/**
 * The whole bot with hand-offs on, over real HTTP: a fake Webex API (the engineers' space, and Webex
 * people) and a fake Bot Framework connector (Teams people), both on loopback; the app is assembled
 * from its environment as `npm start` does it, its webhooks registered through the same code
 * `npm run webex:webhooks` uses. Helpers read the expert space and the person's chat as people see them.
 */
import { afterAll, afterEach, beforeAll, expect, vi } from 'vitest';
import type { ApplicationOptions } from '../../src/app';
import { WebexApi } from '../../src/channels/webex/api';
import { ensureWebhooks } from '../../src/channels/webex/webhooks';
import { silentLogger, startApp, stopAfterTest, useTempDir, type Env, type RunningApp } from '../support';
import { FakeConnector } from '../channels/botframework/fake-connector';
import { FakeWebex, type FakeMessage, type FakePerson, type FakeRoom } from '../channels/webex/fake-webex';

export const SECRET = 'handoff-webhook-secret-0123456789';

export interface Rig {
  readonly webex: FakeWebex;
  readonly connector: FakeConnector;
  readonly expertRoom: FakeRoom;
  /** Engineers listed in AGENT_IDS (by email), and one who is not. */
  readonly olena: FakePerson;
  readonly taras: FakePerson;
  readonly stranger: FakePerson;
  /** A SQLite file in the rig's temp dir (to start a bot on the same data again). */
  db(name: string): string;
  /** The bot with hand-offs on (Webex space; SQLite file `db` unless `env` names another database). */
  start(env?: Env, options?: ApplicationOptions & { db?: string }): Promise<RunningApp>;
}

/** Waits (without asserting on time) until `check` passes. */
export function eventually<T>(check: () => T | Promise<T>): Promise<T> {
  return vi.waitFor(check, { timeout: 15_000, interval: 20 });
}

export function useRig(): Rig {
  const dir = useTempDir('handoff-', 'all');
  const connector = new FakeConnector();
  let webex: FakeWebex | undefined;
  let expertRoom: FakeRoom | undefined;
  const people: Record<string, FakePerson> = {};
  let dbs = 0;
  beforeAll(async () => {
    webex = await FakeWebex.start();
    await connector.start();
    expertRoom = webex.room('group');
    people.olena = webex.person('Olena Bondar', 'olena@support.example.com');
    people.taras = webex.person('Taras Shevchuk', 'taras@support.example.com');
    people.stranger = webex.person('Sam Stranger', 'sam@customer.example.com');
  });
  afterEach(() => {
    webex?.reset();
    connector.reset();
  });
  afterAll(async () => {
    await webex?.close();
    await connector.close();
  });
  const must = <T>(v: T | undefined): T => {
    if (!v) throw new Error('the rig starts before the tests: use it inside them');
    return v;
  };
  return {
    get webex() {
      return must(webex);
    },
    connector,
    get expertRoom() {
      return must(expertRoom);
    },
    get olena() {
      return must(people.olena);
    },
    get taras() {
      return must(people.taras);
    },
    get stranger() {
      return must(people.stranger);
    },
    db: (name) => dir.join(name),
    async start(env = {}, { db, ...options } = {}) {
      const fake = must(webex);
      const bot = stopAfterTest(
        await startApp(
          {
            NODE_ENV: 'test',
            DATABASE_URL: `sqlite:${db ?? dir.join(`bot-${++dbs}.sqlite`)}`,
            WEBCHAT_ENABLED: 'false',
            WEBEX_BOT_TOKEN: fake.token,
            WEBEX_WEBHOOK_SECRET: SECRET,
            WEBEX_API_URL: fake.url,
            WEBEX_INBOX_POLL_SECONDS: '1',
            HANDOFF_WEBEX_ROOM_ID: must(expertRoom).id,
            HANDOFF_POLL_SECONDS: '0.05',
            AGENT_IDS: 'olena@support.example.com,taras@support.example.com',
            ...env,
          },
          options,
        ),
      );
      // Each bot (a restart, another instance) receives the notifications at its own address.
      for (const hook of [...fake.webhooks.values()]) fake.webhooks.delete(hook.id);
      await ensureWebhooks(new WebexApi({ baseUrl: fake.url, token: fake.token, logger: silentLogger }), { publicUrl: bot.url, secret: SECRET });
      return bot;
    },
  };
}

/** The request cards in the expert space that are still there. */
export function requestCards(rig: Rig): FakeMessage[] {
  return rig.webex.visible(rig.expertRoom.id).filter((m) => m.attachments?.length);
}

/** Waits for the request card posted after `since` (the ids of cards there before) and returns it. */
export function newRequestCard(rig: Rig, since: ReadonlySet<string>): Promise<FakeMessage> {
  return eventually(() => {
    const fresh = requestCards(rig).filter((c) => !since.has(c.id));
    expect(fresh).toHaveLength(1);
    return fresh[0]!;
  });
}

/** The ids of the request cards there now. */
export const cardIds = (rig: Rig): Set<string> => new Set(requestCards(rig).map((c) => c.id));

/** The text of a card: its TextBlocks and facts, one per line. */
export function cardText(message: FakeMessage): string {
  const out: string[] = [];
  const walk = (elements: unknown[] | undefined) => {
    for (const el of (elements ?? []) as Record<string, unknown>[]) {
      if (el.type === 'TextBlock') out.push(String(el.text));
      if (el.type === 'FactSet') for (const f of el.facts as { title: string; value: string }[]) out.push(`${f.title}: ${f.value}`);
      walk(el.items as unknown[] | undefined);
    }
  };
  walk(message.attachments?.[0]?.content.body as unknown[]);
  return out.join('\n');
}

/** An engineer presses "Take it" on the request card. */
export async function pressTake(rig: Rig, card: FakeMessage, who: FakePerson): Promise<void> {
  const actions = card.attachments![0]!.content.actions as { title: string; data: Record<string, unknown> }[];
  const take = actions.find((a) => a.data.handoff === 'take');
  if (!take) throw new Error('the card has no "Take it" button');
  await rig.webex.userSubmits(rig.expertRoom, who, card.id, { ...take.data });
}

/** What the bot posted in the expert space's thread `threadId`, as markdown. */
export function thread(rig: Rig, threadId: string): string[] {
  return rig.webex.posted.filter((m) => m.roomId === rig.expertRoom.id && m.parentId === threadId).map((m) => unescape(m.markdown ?? ''));
}

/** The newest message the bot posted in the expert space outside threads (the one that says who took a request). */
export function lastNote(rig: Rig): FakeMessage | undefined {
  return rig.webex.visible(rig.expertRoom.id).filter((m) => !m.parentId && !m.attachments?.length).at(-1);
}

/** Markdown without its backslash escapes, as a person reads it. */
export function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

/** Everything the bot posted in a person's Webex room since `from`, as read. */
export function webexSince(rig: Rig, room: FakeRoom, from = 0): string {
  return rig.webex.posted
    .filter((m) => m.roomId === room.id)
    .slice(from)
    .map((m) => unescape(m.markdown ?? ''))
    .join('\n\n');
}
