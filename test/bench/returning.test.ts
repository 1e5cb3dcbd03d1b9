/**
 * Returning people in the scale phase: the stored set (served conversations and seeded copies) as the
 * walker knows it, and the load driver against a small fake bot that answers through the fake
 * connector (replies, card updates), with half the turns going back to stored conversations.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeConnector, type FakeConnector } from '../../bench/lib/connector';
import { runLoad } from '../../bench/lib/load';
import { readActivities } from '../../bench/lib/reading';
import { StoredConversations } from '../../bench/lib/returning';
import { seededRandom } from '../../bench/lib/stats';
import type { ConversationOptions, WalkScript } from '../../bench/lib/walker';

const cardWith = (choices: string[], step: string) => ({
  type: 'message',
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', body: [{ type: 'TextBlock', text: step }], actions: choices.map((c) => ({ type: 'Action.Submit', title: c, data: { choice: c, step } })) } }],
});
const reading = (id: string, step: string) => readActivities([{ id, activity: cardWith(['yes', 'no'], step) }]);

describe('the stored conversations', () => {
  it('lists served conversations and copies, and a copy starts from its template as it was copied', () => {
    const s = new StoredConversations('bench-r-');
    s.addServed('bench-r-1', reading('a1', 'one'));
    s.addServed('bench-r-2', undefined);
    s.addCopies(1, 3, ['bench-r-1', 'bench-r-2']);
    expect(s.size).toBe(2 + 3 * 2);
    expect(s.at(0)).toMatchObject({ id: 'bench-r-1', userId: 'bench-r-1-user', n: 1, copy: false });
    expect(s.at(2)).toMatchObject({ id: 'bench-r-c1-1', userId: 'bench-r-c1-1-user', n: 1, copy: true });
    expect(s.at(3)).toMatchObject({ id: 'bench-r-c1-2', n: 2, reading: undefined });
    expect(s.at(7)).toMatchObject({ id: 'bench-r-c3-2' });
    expect(() => s.at(8)).toThrow(RangeError);
    expect(s.at(2).reading!.activityIds).toEqual(['a1']);

    // The template moves on; copies made before keep what was copied, later copies get the new state.
    s.addServed('bench-r-1', reading('a9', 'two'));
    s.addCopies(4, 4, ['bench-r-1']);
    expect(s.at(2).reading!.activityIds).toEqual(['a1']);
    expect(s.at(8)).toMatchObject({ id: 'bench-r-c4-1' });
    expect(s.at(8).reading!.activityIds).toEqual(['a9']);

    // A returning turn changes that copy only.
    s.update('bench-r-c2-1', reading('a20', 'three'));
    expect(s.at(4).reading!.activityIds).toEqual(['a20']);
    expect(s.at(2).reading!.activityIds).toEqual(['a1']);
  });

  it('copies what it knows for a copy of the store, and the two go their own ways after', () => {
    const s = new StoredConversations('bench-r-');
    s.addServed('bench-r-1', reading('a1', 'one'));
    const twin = s.copy();
    expect(twin.size).toBe(1);
    expect(twin.at(0).reading!.activityIds).toEqual(['a1']);
    s.addServed('bench-r-2', undefined);
    s.addCopies(1, 2, ['bench-r-1']);
    s.update('bench-r-1', reading('a5', 'two'));
    twin.addServed('bench-r-3', undefined);
    expect(s.size).toBe(4);
    expect(twin.size).toBe(2);
    expect(twin.at(0).reading!.activityIds).toEqual(['a1']);
    expect(twin.at(1).id).toBe('bench-r-3');
    expect(s.at(0).reading!.activityIds).toEqual(['a5']);
  });

  it('picks at random over all of them, never one with a turn in flight', () => {
    const s = new StoredConversations('bench-r-');
    s.addServed('bench-r-1', undefined);
    s.addCopies(1, 999, ['bench-r-1']);
    const random = seededRandom(7);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) seen.add(s.pick(random, new Set())!.id);
    expect(seen.size).toBeGreaterThan(300);
    const only = new StoredConversations('bench-r-');
    only.addServed('bench-r-1', undefined);
    expect(only.pick(random, new Set(['bench-r-1']))).toBeUndefined();
  });
});

/** A bot that answers through the connector: a card with two choices per turn, the pressed card replaced, an ending after three presses. */
function fakeBot(): Promise<{ url: string; server: Server; seen: { conversation: string; id: string; replyToId?: string }[] }> {
  const seen: { conversation: string; id: string; replyToId?: string }[] = [];
  const presses = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const a = JSON.parse(body) as { type: string; id: string; serviceUrl: string; conversation: { id: string }; replyToId?: string; value?: { choice: string } };
      seen.push({ conversation: a.conversation.id, id: a.id, ...(a.replyToId ? { replyToId: a.replyToId } : {}) });
      const base = `${a.serviceUrl}/v3/conversations/${encodeURIComponent(a.conversation.id)}/activities`;
      const send = (activity: unknown, path = base, method = 'POST') => fetch(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
      const n = (presses.get(a.conversation.id) ?? 0) + (a.value ? 1 : 0);
      presses.set(a.conversation.id, n);
      try {
        if (a.replyToId && a.value) await send(cardWith([], 'answered'), `${base}/${a.replyToId}`, 'PUT');
        await send(n >= 3 ? { type: 'message', text: 'Resolved.' } : cardWith(['yes', 'no'], `step${n}`));
        res.writeHead(200).end();
      } catch {
        res.writeHead(502).end(); // the connector closed (the test is over)
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen })));
}

describe('the load driver with connector delivery', () => {
  let connector: FakeConnector;
  let bot: Awaited<ReturnType<typeof fakeBot>>;
  beforeAll(async () => {
    connector = await startFakeConnector();
    bot = await fakeBot();
  });
  afterAll(async () => {
    await connector.close();
    await new Promise((r) => bot.server.close(r));
  });

  const conversation = (): ConversationOptions => ({ runId: 'lt', channelId: 'msteams', serviceUrl: connector.url, maxTurns: 15, opener: 'conversationUpdate', delivery: 'connector' });

  it('reads replies from the connector, presses in reply to the card, records the walks', async () => {
    const record: WalkScript[] = [];
    const res = await runLoad({ url: bot.url, connections: 3, conversations: 6, conversation: conversation(), connector, firstConversation: 1, seed: 1, record });
    expect(res.non2xx + res.errors + res.emptyReplies).toBe(0);
    expect(res.conversationsFinished).toBeGreaterThanOrEqual(6);
    expect(res.endings).toMatchObject({ 'Resolved.': expect.any(Number) });
    // conversationUpdate + 3 presses; each press replaced the card it was on.
    expect(record[0]!.steps.map((s) => s.kind)).toEqual(['open', 'press', 'press', 'press']);
    // Every answered press replaced its card (the load stops with some turns in flight: not counted).
    expect(res.cardsReplaced).toBeGreaterThanOrEqual(res.turns - res.conversationsStarted);
    expect(res.cardsReplaced).toBeLessThanOrEqual(res.turns - res.conversationsFinished);
    const presses = bot.seen.filter((s) => s.replyToId);
    expect(presses.length).toBeGreaterThan(0);
    expect(presses.every((p) => /^a\d+$/.test(p.replyToId!))).toBe(true);
  });

  it('sends a share of the turns to stored conversations, reported apart', async () => {
    const stored = new StoredConversations('bench-lt-');
    const first = await runLoad({ url: bot.url, connections: 2, conversations: 4, conversation: conversation(), connector, firstConversation: 100, seed: 2, onLeft: (c) => c.turns > 0 && stored.addServed(c.id, c.last) });
    stored.addCopies(1, 50, ['bench-lt-100', 'bench-lt-101']);
    bot.seen.length = 0;
    const res = await runLoad({ url: bot.url, connections: 4, conversations: 10, conversation: conversation(), connector, firstConversation: first.nextConversation, seed: 3, returning: { share: 0.5, stored } });
    expect(res.non2xx + res.errors + res.emptyReplies).toBe(0);
    expect(res.returning!.turns).toBeGreaterThan(0);
    expect(res.fresh.turns + res.returning!.turns).toBe(res.turns);
    const back = bot.seen.filter((s) => /-r\d+-\d+$/.test(s.id));
    // Sent, answered or in flight when the load stopped (one per connection at most).
    expect(back.length - res.returning!.turns).toBeGreaterThanOrEqual(0);
    expect(back.length - res.returning!.turns).toBeLessThanOrEqual(4);
    expect(back.some((s) => /^bench-lt-c\d+-10[01]$/.test(s.conversation))).toBe(true);
    expect(Object.values(res.returning!.kinds).reduce((a, b) => a + (b ?? 0), 0)).toBe(res.returning!.turns);
  });
});
