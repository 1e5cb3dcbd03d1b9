/**
 * The lean connector calls (src/channels/botframework/lean-conversations.ts) against a loopback
 * connector: what reaches it must be what the SDK would send (the path with its ids encoded, the
 * JSON activity, the conversation header, the credentials' signature), the pipeline's retries must
 * still apply, and a refusal must fail with the SDK's status code.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { ConnectorClient } from 'botframework-connector';
import { afterEach, describe, expect, it } from 'vitest';
import { useLeanConversations } from '../../../src/channels/botframework/lean-conversations';
import { closeServer, listenOnLoopback } from '../../support/loopback';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

let server: Server | undefined;
afterEach(() => closeServer(server));

/** A connector answering each request with the next of `answers` (status, body); the last one repeats. */
async function connector(answers: { status: number; body?: unknown }[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: text ? JSON.parse(text) : undefined });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  const port = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}/teams/`, seen };
}

/** Credentials that sign as a Bot Framework app would: the bearer token on every request. */
const signing = {
  signRequest: async (request: { headers: { set(name: string, value: string): void } }) => {
    request.headers.set('authorization', 'Bearer bot-token');
    return request;
  },
};

function client(url: string): ConnectorClient {
  return useLeanConversations(new ConnectorClient(signing as never, { baseUri: url }), url);
}

describe('lean connector calls', () => {
  it('post a reply as the SDK does: encoded ids in the path, the JSON activity, the conversation header and the signature; the id comes back', async () => {
    const { url, seen } = await connector([{ status: 201, body: { id: 'reply-1' } }]);
    const conversation = '19:abc@thread.tacv2;messageid=1700000000000';
    const activity = { type: 'message', text: 'Привіт', timestamp: new Date('2026-12-07T01:00:00.000Z') };

    const response = await client(url).conversations.replyToActivity(conversation, 'f:1/2', activity as never);

    expect(response.id).toBe('reply-1');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe(`/teams/v3/conversations/${encodeURIComponent(conversation)}/activities/f%3A1%2F2`);
    expect(seen[0]!.headers['x-ms-conversation-id']).toBe(conversation);
    expect(seen[0]!.headers.authorization).toBe('Bearer bot-token');
    expect(seen[0]!.body).toEqual({ type: 'message', text: 'Привіт', timestamp: '2026-12-07T01:00:00.000Z' });
  });

  it('post to the conversation and update an activity (PUT) on their own paths', async () => {
    const { url, seen } = await connector([{ status: 200, body: { id: 'a-2' } }]);
    const c = client(url);

    expect((await c.conversations.sendToConversation('a:1', { type: 'message', text: 'hi' })).id).toBe('a-2');
    await c.conversations.updateActivity('a:1', 'a-2', { type: 'message', text: 'answered' });

    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /teams/v3/conversations/a%3A1/activities', 'PUT /teams/v3/conversations/a%3A1/activities/a-2']);
  });

  it("look a member up (GET) and return the connector's answer as it came", async () => {
    const member = { id: '29:1abc', name: 'Olena Partner', email: 'olena@example.com', userPrincipalName: 'olena@example.com' };
    const { url, seen } = await connector([{ status: 200, body: member }]);

    expect(await client(url).conversations.getConversationMember('a:1', '29:1abc')).toEqual(member);
    expect(seen.map((s) => `${s.method} ${s.url} ${s.headers.authorization}`)).toEqual(['GET /teams/v3/conversations/a%3A1/members/29%3A1abc Bearer bot-token']);
  });

  it("keep the pipeline's retries: a 503 is tried again and the reply arrives once", async () => {
    const { url, seen } = await connector([{ status: 503 }, { status: 200, body: { id: 'after-retry' } }]);

    const response = await client(url).conversations.replyToActivity('a:1', 'm1', { type: 'message', text: 'x' });

    expect(response.id).toBe('after-retry');
    expect(seen).toHaveLength(2);
  });

  it('fail with the status code when the connector refuses the activity (400), and do not retry it', async () => {
    const { url, seen } = await connector([{ status: 400, body: { error: { code: 'BadArgument' } } }]);

    await expect(client(url).conversations.replyToActivity('a:1', 'm1', { type: 'message' })).rejects.toMatchObject({ statusCode: 400 });
    expect(seen).toHaveLength(1);
  });
});
