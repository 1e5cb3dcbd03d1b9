/**
 * The adapter's outbound clients are built once and reused: replies of several turns, to a real
 * local connector, all go through one ConnectorClient per service URL.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationServiceClientCredentialFactory, type Activity } from 'botbuilder';
import { BotAdapter } from '../../../src/channels/botframework';
import { ReusingBotFrameworkAuthentication } from '../../../src/channels/botframework/reusing-auth';
import { useFakeConnector } from './harness';

const connectors = [useFakeConnector(), useFakeConnector()];

function message(serviceUrl: string, conversationId: string, text: string, deliveryMode?: string): Activity {
  return {
    type: 'message',
    id: `${conversationId}-${text}`,
    channelId: 'emulator',
    serviceUrl,
    from: { id: 'user-1', name: 'Partner' },
    recipient: { id: 'bot', name: 'Bot' },
    conversation: { id: conversationId },
    text,
    ...(deliveryMode ? { deliveryMode } : {}),
  } as Activity;
}

describe('ReusingBotFrameworkAuthentication', () => {
  it('sends the replies of many turns through one connector client per service URL, and they all arrive', async () => {
    const auth = new ReusingBotFrameworkAuthentication({}, new ConfigurationServiceClientCredentialFactory({}));
    const adapter = new BotAdapter(auth);
    const seenClients = new Set<unknown>();
    const seenFactories = new Set<unknown>();
    const echo = async (context: import('botbuilder').TurnContext) => {
      seenClients.add(context.turnState.get(context.adapter.ConnectorClientKey));
      seenFactories.add(context.turnState.get(adapter.ConnectorFactoryKey));
      await context.sendActivity(`echo: ${context.activity.text}`);
    };

    for (const text of ['one', 'two', 'three']) await adapter.run('', message(connectors[0]!.url, 'conv-a', text), echo);
    await adapter.run('', message(connectors[1]!.url, 'conv-b', 'four'), echo);

    expect(connectors[0]!.sent.map((s) => s.activity.text)).toEqual(['echo: one', 'echo: two', 'echo: three']);
    expect(connectors[1]!.sent.map((s) => s.activity.text)).toEqual(['echo: four']);
    expect(seenClients.size).toBe(2);
    expect(auth.clientsBuilt.connectors).toBe(2);
    // One connector factory for the bot's app id, every turn, whichever service URL.
    expect(seenFactories.size).toBe(1);
  });

  it('answers expectReplies turns in the response without building a client per turn', async () => {
    const auth = new ReusingBotFrameworkAuthentication({}, new ConfigurationServiceClientCredentialFactory({}));
    const adapter = new BotAdapter(auth);
    const bodies: unknown[] = [];
    for (const text of ['a', 'b', 'c']) {
      const response = await adapter.run('', message(connectors[0]!.url, 'conv-c', text, 'expectReplies'), async (context) => {
        await context.sendActivity(`echo: ${context.activity.text}`);
      });
      bodies.push(response?.body);
    }
    expect(bodies.map((b) => (b as { activities: { text: string }[] }).activities.map((a) => a.text))).toEqual([['echo: a'], ['echo: b'], ['echo: c']]);
    expect(auth.clientsBuilt).toEqual({ connectors: 1, userTokens: 1 });
  });
});
