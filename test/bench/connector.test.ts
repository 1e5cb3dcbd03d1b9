/**
 * The bench's fake Bot Framework connector: it must answer the calls botbuilder really makes on the
 * Teams path (reply, card update, member look-up), keep what was sent per conversation for the walker,
 * and count calls.
 */
import { ActivityTypes, CardFactory, CloudAdapter, ConfigurationBotFrameworkAuthentication, TeamsInfo, type Activity, type TurnContext } from 'botbuilder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsPerTurn, memberOf, route, startFakeConnector, type FakeConnector } from '../../bench/lib/connector';
import { readActivities } from '../../bench/lib/reading';

describe('routes of the connector API', () => {
  it('tells sends, replies, updates and member look-ups apart, ids decoded', () => {
    expect(route('POST', '/v3/conversations/a%3A1/activities')).toEqual({ kind: 'post', conversationId: 'a:1' });
    expect(route('POST', '/v3/conversations/c1/activities/a%2F5')).toEqual({ kind: 'post', conversationId: 'c1', activityId: 'a/5' });
    expect(route('PUT', '/v3/conversations/c1/activities/a5')).toEqual({ kind: 'update', conversationId: 'c1', activityId: 'a5' });
    expect(route('GET', '/v3/conversations/c1/members/u1')).toEqual({ kind: 'member', conversationId: 'c1', userId: 'u1' });
    expect(route('DELETE', '/v3/conversations/c1/activities/a5').kind).toBe('other');
    expect(route('GET', '/v3/conversations/c1/members').kind).toBe('other');
  });

  it('answers a member with an email address made from the user id', () => {
    expect(memberOf('bench-x-1-user')).toMatchObject({ id: 'bench-x-1-user', email: 'bench-x-1-user@example.com' });
  });

  it('gives calls per turn', () => {
    const zero = { posts: 0, otherPosts: 0, updates: 0, unknownUpdates: 0, memberLookups: 0, other: 0 };
    expect(callsPerTurn(zero, { ...zero, posts: 20, updates: 10, memberLookups: 2 }, 10)).toMatchObject({ posts: 2, updates: 1, memberLookups: 0.2, total: 3.2 });
  });
});

describe('botbuilder through the fake connector', () => {
  let connector: FakeConnector;
  beforeAll(async () => {
    connector = await startFakeConnector();
  });
  afterAll(async () => {
    await connector.close();
  });

  const incoming = (over: Partial<Activity> = {}): Activity =>
    ({
      type: ActivityTypes.Message,
      id: 'in-1',
      channelId: 'msteams',
      serviceUrl: connector.url,
      from: { id: 'bench-x-1-user', name: 'Bench' },
      recipient: { id: 'bench-bot', name: 'Bot' },
      conversation: { id: 'bench-x-1', conversationType: 'personal', tenantId: 't' },
      text: 'hi',
      ...over,
    }) as Activity;

  /** CloudAdapter with its turn entry point callable here (as the product's BotAdapter does). */
  class Adapter extends CloudAdapter {
    run(activity: Activity, logic: (context: TurnContext) => Promise<void>) {
      return this.processActivity('', activity, logic);
    }
  }

  it('keeps replies for the walker, with the ids a press sends back, and counts every call', async () => {
    const adapter = new Adapter(new ConfigurationBotFrameworkAuthentication({}));
    let member: unknown;
    await adapter.run(incoming(), async (context) => {
      member = await TeamsInfo.getMember(context, 'bench-x-1-user');
      await context.sendActivity({ type: ActivityTypes.Typing });
      await context.sendActivity({ type: ActivityTypes.Message, attachments: [CardFactory.adaptiveCard({ type: 'AdaptiveCard', version: '1.5', body: [], actions: [{ type: 'Action.Submit', title: 'Yes', data: { choice: 'yes' } }] })] });
    });
    expect(member).toMatchObject({ email: 'bench-x-1-user@example.com' });
    const first = connector.take('bench-x-1');
    expect(first.posted).toHaveLength(1);
    const reading = readActivities(first.posted);
    expect(reading.offers).toEqual([{ label: 'Yes', value: { choice: 'yes' }, activityId: first.posted[0]!.id }]);
    expect(connector.take('bench-x-1').posted).toHaveLength(0); // taken once

    // The press replies to the card; the bot replaces the card and answers.
    await adapter.run(incoming({ id: 'in-2', replyToId: reading.offers[0]!.activityId, value: { choice: 'yes' }, text: undefined }), async (context) => {
      await context.updateActivity({ type: ActivityTypes.Message, id: context.activity.replyToId, conversation: context.activity.conversation, text: 'answered' });
      await context.sendActivity('Thanks');
    });
    const second = connector.take('bench-x-1');
    expect(second.updated).toEqual([{ id: reading.offers[0]!.activityId, activity: expect.objectContaining({ text: 'answered' }) }]);
    expect(readActivities(second.posted).text).toBe('Thanks');
    expect(connector.calls()).toMatchObject({ posts: 2, otherPosts: 1, updates: 1, unknownUpdates: 0, memberLookups: 1, other: 0 });
    expect(connector.waiting()).toBe(0);
  });
});
