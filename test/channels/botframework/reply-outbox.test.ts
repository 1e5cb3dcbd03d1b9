/**
 * Issue 15: replies the connector did not take stay pending and the worker sends them when it is back,
 * with no new message from the person, in order, once. The app runs on SQLite with a fast worker
 * (retry 0.2 s, poll 0.1 s); the fake connector refuses the first N posts with 503.
 */
import { describe, expect, it } from 'vitest';
import { createTranslator } from '../../../src/i18n';
import type { SqlStore } from '../../../src/storage';
import { BotRepliesRepository } from '../../../src/channels/botframework/replies-repository';
import { waitFor } from '../../support';
import { parseReply, Person, useFakeConnector, useSharedBot } from './harness';

const t = createTranslator();
/** One send and the connector client's own retries (3). */
const ATTEMPTS_PER_SEND = 4;
const connector = useFakeConnector();
const bot = useSharedBot({ REPLY_DELIVERY_RETRY_SECONDS: '0.2', REPLY_DELIVERY_POLL_SECONDS: '0.1' });

function rows(key: string) {
  return new BotRepliesRepository(bot.app.store as SqlStore).ofConversation(key);
}

describe('the kept replies worker', () => {
  it('sends a reply the connector did not take once it is back, without a new message, once', async () => {
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector });
    connector.failPosts = ATTEMPTS_PER_SEND;

    const lost = await person.join();
    expect(lost.replies).toEqual([]);

    await waitFor(async () => (await rows(person.key))[0]?.state === 'sent', 'the worker to send the reply');
    const sent = connector.sentTo(person.conversationId);
    expect(sent).toHaveLength(1);
    expect(parseReply(sent[0]!.activity).card).toBeDefined();
    // Nothing left for the next turn: its answer comes alone, no note.
    const next = await person.say('help');
    expect(next.replies).toHaveLength(1);
    expect(next.replies[0]!.text).not.toContain(t.t('en', 'proactive:undeliveredNote'));
  });

  it('sends the pending replies of several turns in their order', async () => {
    const person = new Person(bot.url, { channelId: 'emulator', locale: 'en-US', connector });
    // The greeting fails; so does the next turn (its note goes first and fails too): both stay pending.
    connector.failPosts = 2 * ATTEMPTS_PER_SEND;
    await person.join();
    await person.say('help');
    expect((await rows(person.key)).map((r) => r.state)).toEqual(['pending', 'pending']);

    await waitFor(async () => (await rows(person.key)).every((r) => r.state === 'sent'), 'the worker to send both');
    const texts = connector.sentTo(person.conversationId).map((s) => parseReply(s.activity).text);
    const kept = (await rows(person.key)).map((r) => (r.messages[0] as { paragraphs: string[] }).paragraphs.join('\n\n'));
    expect(kept[0]).not.toBe(kept[1]);
    expect(texts).toEqual(kept);
  });
});
