/**
 * A turn's replies are committed with it and stay pending until the connector took them: the
 * connector client retries 5xx with backoff, and what still fails stays pending and is shown first
 * (after a short note) on the conversation's next turn, also after a restart. The fake connector
 * answers the first N sends with 503.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTranslator } from '../../../src/i18n';
import type { SqlStore } from '../../../src/storage';
import { BotConversationsRepository } from '../../../src/channels/botframework/conversations-repository';
import { BotRepliesRepository } from '../../../src/channels/botframework/replies-repository';
import { provisioningContactFlow } from '../../../dialogs/provisioning-contact/machine';
import { createBotFrameworkChannel } from '../../../src/channels/botframework';
import { loadConfig } from '../../../src/config';
import { Engine } from '../../../src/engine/engine';
import { createLogger } from '../../../src/log';
import { buildServer } from '../../../src/server';
import { createStore } from '../../../src/storage';
import { FakeConnector } from './fake-connector';
import { Person, startBot, tempDir, type BotUnderTest } from './harness';

const t = createTranslator();
/** One send and the connector client's own retries (3). */
const ATTEMPTS_PER_SEND = 4;
const connector = new FakeConnector();
let dir: ReturnType<typeof tempDir>;
let bot: BotUnderTest | undefined;

beforeAll(async () => {
  await connector.start();
});
afterAll(async () => {
  await connector.close();
});
afterEach(async () => {
  connector.failPosts = 0;
  connector.failStatus = 503;
  await bot?.close();
  bot = undefined;
  dir.remove();
});

async function start(): Promise<BotUnderTest> {
  bot = await startBot(join(dir.path, 'bot.sqlite'));
  return bot;
}

/** Replies of the conversation's turns still pending (not taken by the connector). */
async function kept(b: BotUnderTest, key: string) {
  return (await new BotRepliesRepository(b.application.store as SqlStore).ofConversation(key)).filter((r) => r.state === 'pending');
}

describe('replies that survive a connector outage', () => {
  it('a reply refused twice with 503 is retried and arrives once', async () => {
    dir = tempDir();
    await start();
    const person = new Person(bot!.url, { channelId: 'msteams', locale: 'en-US', connector });
    connector.failPosts = 2;

    const { status, replies } = await person.join();

    expect(status).toBe(200);
    expect(replies).toHaveLength(1);
    expect(connector.postAttempts.filter((a) => a.conversationId === person.conversationId).map((a) => a.status)).toEqual([503, 503, 200]);
    expect(await kept(bot!, person.key)).toEqual([]);
  });

  it('a reply that still fails is kept, and the next turn (after a restart) shows it first, after a note', async () => {
    dir = tempDir();
    await start();
    const person = new Person(bot!.url, { channelId: 'msteams', locale: 'uk-UA', connector });
    connector.failPosts = ATTEMPTS_PER_SEND;

    const lost = await person.join();

    // The turn is answered 200 (it was committed); no apology either, since nothing failed but the send.
    expect(lost.status).toBe(200);
    expect(lost.replies).toEqual([]);
    expect(connector.postAttempts.filter((a) => a.conversationId === person.conversationId)).toHaveLength(ATTEMPTS_PER_SEND);
    const stored = await kept(bot!, person.key);
    expect(stored).toHaveLength(1);
    const greeting = stored[0]!.messages[0] as { paragraphs: string[] };

    await bot!.close();
    bot = await start();
    person.reconnect(bot.url);
    const next = await person.say('допомога');

    expect(next.replies.map((r) => r.text)).toHaveLength(3);
    expect(next.replies[0]!.text).toBe(t.t('uk', 'proactive:undeliveredNote'));
    expect(next.replies[1]!.text).toBe(greeting.paragraphs.join('\n\n'));
    expect(next.replies[2]!.card).toBeDefined();
    expect(await kept(bot, person.key)).toEqual([]);
  });

  it('a reply the connector refuses as invalid (400) is not kept', async () => {
    dir = tempDir();
    await start();
    const person = new Person(bot!.url, { channelId: 'emulator', locale: 'en-US', connector });
    connector.failPosts = 1;
    connector.failStatus = 400;

    const { status, replies } = await person.join();

    expect(status).toBe(200);
    expect(replies).toEqual([]);
    expect(connector.postAttempts.filter((a) => a.conversationId === person.conversationId)).toHaveLength(1);
    expect(await kept(bot!, person.key)).toEqual([]);
    const next = await person.say('help');
    expect(next.replies).toHaveLength(1);
  });

  it('a connector that cannot be reached at all (connection refused) keeps the reply until it is back', async () => {
    dir = tempDir();
    await start();
    const gone = new FakeConnector();
    const goneUrl = await gone.start();
    await gone.close(); // nothing listens there any more
    const person = new Person(bot!.url, { channelId: 'emulator', locale: 'en-US', connector });

    const lost = await person.post(person.activity({ type: 'conversationUpdate', membersAdded: [{ id: person.userId }, { id: 'bot' }], serviceUrl: goneUrl }));

    expect(lost.status).toBe(200);
    expect(await kept(bot!, person.key)).toHaveLength(1);
    const next = await person.say('help');
    expect(next.replies.map((r) => r.text)[0]).toBe(t.t('en', 'proactive:undeliveredNote'));
    expect(next.replies).toHaveLength(3);
    expect(await kept(bot!, person.key)).toEqual([]);
  });

  it('a store that cannot read the kept replies does not cost the turn its answer', async () => {
    dir = tempDir();
    const logger = createLogger('silent');
    const store = createStore(`sqlite:${join(dir.path, 'bot.sqlite')}`, logger);
    await store.open();
    class Unreadable extends BotConversationsRepository {
      override async undelivered(): Promise<never> {
        throw new Error('database is locked');
      }
    }
    const engine = new Engine({ store, flow: provisioningContactFlow, translator: t, logger });
    const channel = createBotFrameworkChannel({ config: loadConfig({}), engine, translator: t, logger, botConversations: new Unreadable(store) });
    const server = buildServer({ logger, maxBodyBytes: 262144, plugins: [channel] });
    const { url } = await server.listen(0);
    try {
      const person = new Person(url, { channelId: 'msteams', locale: 'en-US', connector });
      const { replies } = await person.join();
      expect(replies).toHaveLength(1);
      expect(replies[0]!.text).not.toContain(t.t('en', 'botframework:error.apology'));
    } finally {
      await server.close(2_000);
      await store.close();
    }
  });
});
