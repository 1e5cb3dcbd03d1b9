/**
 * A turn's replies are committed with it and stay pending until the connector took them: the
 * connector client retries 5xx with backoff, and what still fails stays pending and is shown first
 * (after a short note) on the conversation's next turn, also after a restart. The fake connector
 * answers the first N sends with 503.
 */
import { describe, expect, it } from 'vitest';
import { createTranslator } from '../../../src/i18n';
import type { SqlStore } from '../../../src/storage';
import { BotConversationsRepository } from '../../../src/channels/botframework/conversations-repository';
import { BotRepliesRepository } from '../../../src/channels/botframework/replies-repository';
import { createStore } from '../../../src/storage';
import { silentLogger } from '../../support';
import { FakeConnector } from './fake-connector';
import { Person, startChannel, useBotsPerTest, useFakeConnector, type BotUnderTest } from './harness';

const t = createTranslator();
/** One send and the connector client's own retries (3). */
const ATTEMPTS_PER_SEND = 4;
const connector = useFakeConnector();
const bots = useBotsPerTest();

/** Replies of the conversation's turns still pending (not taken by the connector). */
async function kept(b: BotUnderTest, key: string) {
  return (await new BotRepliesRepository(b.app.store as SqlStore).ofConversation(key)).filter((r) => r.state === 'pending');
}

describe('replies that survive a connector outage', () => {
  it('a reply refused twice with 503 is retried and arrives once', async () => {
    const bot = await bots.start();
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    connector.failPosts = 2;

    const { status, replies } = await person.join();

    expect(status).toBe(200);
    expect(replies).toHaveLength(1);
    expect(connector.postAttempts.filter((a) => a.conversationId === person.conversationId).map((a) => a.status)).toEqual([503, 503, 200]);
    expect(await kept(bot, person.key)).toEqual([]);
  });

  it('a reply that still fails is kept, and the next turn (after a restart) shows it first, after a note', async () => {
    const bot = await bots.start();
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'uk-UA', connector });
    connector.failPosts = ATTEMPTS_PER_SEND;

    const lost = await person.join();

    // The turn is answered 200 (it was committed); no apology either, since nothing failed but the send.
    expect(lost.status).toBe(200);
    expect(lost.replies).toEqual([]);
    expect(connector.postAttempts.filter((a) => a.conversationId === person.conversationId)).toHaveLength(ATTEMPTS_PER_SEND);
    const stored = await kept(bot, person.key);
    expect(stored).toHaveLength(1);
    const greeting = stored[0]!.messages[0] as { paragraphs: string[] };

    await bot.stop();
    const restarted = await bots.start();
    person.reconnect(restarted.url);
    const next = await person.say('допомога');

    expect(next.replies.map((r) => r.text)).toHaveLength(3);
    expect(next.replies[0]!.text).toBe(t.t('uk', 'proactive:undeliveredNote'));
    expect(next.replies[1]!.text).toBe(greeting.paragraphs.join('\n\n'));
    expect(next.replies[2]!.card).toBeDefined();
    expect(await kept(restarted, person.key)).toEqual([]);
  });

  it('a reply the connector refuses as invalid (400) is not kept', async () => {
    const bot = await bots.start();
    const person = new Person(bot.url, { channelId: 'emulator', locale: 'en-US', connector });
    connector.failPosts = 1;
    connector.failStatus = 400;

    const { status, replies } = await person.join();

    expect(status).toBe(200);
    expect(replies).toEqual([]);
    expect(connector.postAttempts.filter((a) => a.conversationId === person.conversationId)).toHaveLength(1);
    expect(await kept(bot, person.key)).toEqual([]);
    const next = await person.say('help');
    expect(next.replies).toHaveLength(1);
  });

  it('a connector that cannot be reached at all (connection refused) keeps the reply until it is back', async () => {
    const bot = await bots.start();
    const gone = new FakeConnector();
    const goneUrl = await gone.start();
    await gone.close(); // nothing listens there any more
    const person = new Person(bot.url, { channelId: 'emulator', locale: 'en-US', connector });

    const lost = await person.post(person.activity({ type: 'conversationUpdate', membersAdded: [{ id: person.userId }, { id: 'bot' }], serviceUrl: goneUrl }));

    expect(lost.status).toBe(200);
    expect(await kept(bot, person.key)).toHaveLength(1);
    const next = await person.say('help');
    expect(next.replies.map((r) => r.text)[0]).toBe(t.t('en', 'proactive:undeliveredNote'));
    expect(next.replies).toHaveLength(3);
    expect(await kept(bot, person.key)).toEqual([]);
  });

  it('a store that cannot read the kept replies does not cost the turn its answer', async () => {
    const store = createStore(`sqlite:${bots.db}`, silentLogger);
    await store.open();
    class Unreadable extends BotConversationsRepository {
      override async undelivered(): Promise<never> {
        throw new Error('database is locked');
      }
    }
    const { url, stop } = await startChannel(store, { botConversations: new Unreadable(store) });
    try {
      const person = new Person(url, { channelId: 'msteams', locale: 'en-US', connector });
      const { replies } = await person.join();
      expect(replies).toHaveLength(1);
      expect(replies[0]!.text).not.toContain(t.t('en', 'botframework:error.apology'));
    } finally {
      await stop();
    }
  });
});
