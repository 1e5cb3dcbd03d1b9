/**
 * The lean connector calls (src/channels/botframework/lean-conversations.ts, lean-pipeline.ts)
 * against a loopback connector: what reaches it must be what the SDK would send (the path with its
 * ids encoded, the JSON activity, the conversation header, the credentials' AAD token from a local
 * token endpoint, the SDK's user agent), the SDK pipeline's retries, redirects and proxy must still
 * apply, and a refusal must fail with the SDK's status code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ConnectorClient, MicrosoftAppCredentials, MsalAppCredentials, type ServiceClientCredentials } from 'botframework-connector';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useLeanConversations } from '../../../src/channels/botframework/lean-conversations';
import { closeServer, listenOnLoopback } from '../../support/loopback';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => closeServer(s)));
});

/** An HTTP server on 127.0.0.1 (closed after the test) recording each request and answering with `answer(request, seen so far)`. */
async function recorder(answer: (seen: Seen[], req: IncomingMessage, res: ServerResponse) => Answer, port = 0): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: text ? (JSON.parse(text) as unknown) : undefined });
      const { status, body, headers } = answer(seen, req, res);
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  servers.push(server);
  return { port: await listenOnLoopback(server, port), seen };
}

/** A connector answering each request with the next of `answers`; the last one repeats. */
async function connector(answers: Answer[]): Promise<{ url: string; seen: Seen[] }> {
  const { port, seen } = await recorder((s) => answers[Math.min(s.length - 1, answers.length - 1)]!);
  return { url: `http://127.0.0.1:${port}/teams/`, seen };
}

/** A stand-in for Microsoft Entra ID's token endpoint (client credentials grant): a new token each time it is asked. */
const tokens = { url: '', requests: [] as URLSearchParams[], server: undefined as Server | undefined };
beforeAll(async () => {
  tokens.server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      tokens.requests.push(new URLSearchParams(text));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: `aad-token-${tokens.requests.length}` }));
    });
  });
  tokens.url = `http://127.0.0.1:${await listenOnLoopback(tokens.server)}/botframework.com/oauth2/v2.0/token`;
});
afterAll(() => closeServer(tokens.server));

let apps = 0;

/**
 * The credentials the bot's connector clients get (MicrosoftAppCredentials, a new app id each: the
 * SDK caches tokens per app id process-wide), whose MSAL client asks the local token endpoint: MSAL
 * itself only talks to an https authority it can discover.
 */
function appCredentials(): MicrosoftAppCredentials {
  const appId = `lean-test-app-${++apps}`;
  const credentials = new MicrosoftAppCredentials(appId, 'app-password');
  const msal = {
    async acquireTokenByClientCredential({ scopes }: { scopes: string[] }) {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: appId, client_secret: 'app-password', scope: scopes.join(' ') });
      const answer = (await (await fetch(tokens.url, { method: 'POST', body: form })).json()) as { access_token: string; expires_in: number };
      return { accessToken: answer.access_token, expiresOn: new Date(Date.now() + answer.expires_in * 1000) };
    },
  };
  (credentials as unknown as { credentials: MsalAppCredentials }).credentials = new MsalAppCredentials(msal as never, appId, credentials.oAuthEndpoint, credentials.oAuthScope);
  return credentials;
}

function client(url: string, credentials: ServiceClientCredentials = appCredentials()): ConnectorClient {
  // The user agent as ConnectorFactoryImpl gives it.
  return useLeanConversations(new ConnectorClient(credentials, { baseUri: url, userAgent: 'Microsoft-BotFramework/3.1 botframework-connector/4.23.3 ' }), url);
}

const activity = { type: 'message', text: 'x' };

describe('lean connector calls', () => {
  it('post a reply as the SDK does: encoded ids in the path, the JSON activity, the conversation header and the AAD token; the id comes back', async () => {
    const { url, seen } = await connector([{ status: 201, body: { id: 'reply-1' } }]);
    const conversation = '19:abc@thread.tacv2;messageid=1700000000000';
    const sent = { type: 'message', text: 'Привіт', timestamp: new Date('2026-12-07T01:00:00.000Z') };
    const before = tokens.requests.length;

    const response = await client(url).conversations.replyToActivity(conversation, 'f:1/2', sent as never);

    expect(response.id).toBe('reply-1');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe(`/teams/v3/conversations/${encodeURIComponent(conversation)}/activities/f%3A1%2F2`);
    expect(seen[0]!.headers['x-ms-conversation-id']).toBe(conversation);
    expect(seen[0]!.headers.authorization).toBe(`Bearer aad-token-${before + 1}`);
    expect(seen[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(seen[0]!.headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(sent)));
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
    expect(seen.map((s) => `${s.method} ${s.url} ${String(s.headers.authorization).startsWith('Bearer aad-token-')}`)).toEqual([
      'GET /teams/v3/conversations/a%3A1/members/29%3A1abc true',
    ]);
  });

  it("ask the token endpoint once for the app's token and sign every call with it, as the SDK's credentials cache it", async () => {
    const { url, seen } = await connector([{ status: 200, body: { id: 'a' } }]);
    const c = client(url);
    const before = tokens.requests.length;

    for (let i = 0; i < 3; i++) await c.conversations.sendToConversation('a:1', activity);

    expect(tokens.requests.length - before).toBe(1);
    expect(tokens.requests.at(-1)!.get('scope')).toBe('https://api.botframework.com/.default');
    expect(new Set(seen.map((s) => s.headers.authorization))).toEqual(new Set([`Bearer aad-token-${before + 1}`]));
  });

  it("send the headers the SDK's own pipeline sends (user agent, token, conversation, client request id)", async () => {
    const { url, seen } = await connector([{ status: 200, body: { id: 'a' } }]);
    const c = client(url);

    await c.conversations.replyToActivity('a:1', 'm1', activity);
    await c.conversations.replyToActivity('a:1', 'm1', activity, {}); // with options: the SDK's call

    const [lean, sdk] = seen.map((s) => s.headers);
    for (const name of ['user-agent', 'authorization', 'x-ms-conversation-id', 'content-type']) expect([name, lean![name]]).toEqual([name, sdk![name]]);
    expect(lean!['user-agent']).toMatch(/^botframework-connector\/4\.0\.0 Microsoft-BotFramework\/3\.1 botframework-connector\/4\.23\.3 +core-rest-pipeline\/\S+ Node\//);
    expect(lean!['x-ms-client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('send no Authorization for the empty credentials (no app id: a local bot), as the SDK does', async () => {
    const { url, seen } = await connector([{ status: 200, body: { id: 'a' } }]);

    await client(url, MicrosoftAppCredentials.Empty).conversations.sendToConversation('a:1', activity);

    expect(seen[0]!.headers.authorization).toBeUndefined();
  });

  it("send on a pipeline of their own with the SDK's credentials, and on the client's own with others", async () => {
    const { url } = await connector([{ status: 200, body: { id: 'a' } }]);
    const sdkSends = (credentials?: ServiceClientCredentials) => {
      const raw = new ConnectorClient(credentials ?? appCredentials(), { baseUri: url });
      let count = 0;
      const sendRequest = raw.sendRequest.bind(raw);
      raw.sendRequest = (request) => (count++, sendRequest(request));
      return { c: useLeanConversations(raw, url), count: () => count };
    };
    const lean = sdkSends();
    const other = sdkSends({ signRequest: async (request) => request });

    await lean.c.conversations.sendToConversation('a:1', activity);
    await other.c.conversations.sendToConversation('a:1', activity);

    expect([lean.count(), other.count()]).toEqual([0, 1]);
  });

  it("sign through the SDK's pipeline with credentials the lean one does not know", async () => {
    const { url, seen } = await connector([{ status: 200, body: { id: 'a' } }]);
    const custom = {
      signRequest: async (request: { headers: { set(name: string, value: string): void } }) => {
        request.headers.set('authorization', 'Bearer custom-token');
        return request;
      },
    };

    await client(url, custom as never).conversations.sendToConversation('a:1', activity);

    expect(seen[0]!.headers.authorization).toBe('Bearer custom-token');
  });

  it("keep the pipeline's retries: a 503 is tried again and the reply arrives once", async () => {
    const { url, seen } = await connector([{ status: 503 }, { status: 200, body: { id: 'after-retry' } }]);

    const response = await client(url).conversations.replyToActivity('a:1', 'm1', activity);

    expect(response.id).toBe('after-retry');
    expect(seen).toHaveLength(2);
  });

  it('try a 429 again after the Retry-After it names', async () => {
    const { url, seen } = await connector([{ status: 429, headers: { 'retry-after': '1' } }, { status: 200, body: { id: 'after-throttle' } }]);
    const started = Date.now();

    const response = await client(url).conversations.replyToActivity('a:1', 'm1', activity);

    expect(response.id).toBe('after-throttle');
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('try again when the connection is refused, and deliver once the connector is up', async () => {
    // A port nothing listens on until a moment after the first attempt (the retry waits 0.5–1 s).
    const probe = createServer();
    const port = await listenOnLoopback(probe);
    await closeServer(probe);
    const url = `http://127.0.0.1:${port}/teams/`;
    const c = client(url);
    const started = Date.now();
    const sending = c.conversations.replyToActivity('a:1', 'm1', activity);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { seen } = await recorder(() => ({ status: 200, body: { id: 'after-refused' } }), port);

    expect((await sending).id).toBe('after-refused');
    expect(seen).toHaveLength(1);
    // Delivered by the retry (0.5–1 s after the refusal), not by a first attempt that came late.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('follow a redirect on the same connector, as the SDK pipeline does (which sends it without the token)', async () => {
    const { port, seen } = await recorder((_, req) =>
      req.url!.startsWith('/teams/') ? { status: 307, headers: { location: '/moved/v3/conversations/a%3A1/activities/m1' } } : { status: 200, body: { id: 'moved' } },
    );

    expect((await client(`http://127.0.0.1:${port}/teams/`).conversations.replyToActivity('a:1', 'm1', activity)).id).toBe('moved');
    expect(seen.map((s) => `${s.method} ${s.url} ${s.headers.authorization === undefined ? 'unsigned' : 'signed'}`)).toEqual([
      'POST /teams/v3/conversations/a%3A1/activities/m1 signed',
      'POST /moved/v3/conversations/a%3A1/activities/m1 unsigned',
    ]);
    expect(seen[1]!.body).toEqual(activity);
  });

  it('go through the proxy HTTPS_PROXY names', async () => {
    const proxy = await recorder(() => ({ status: 200, body: { id: 'via-proxy' } }));
    const saved = process.env.HTTPS_PROXY;
    process.env.HTTPS_PROXY = `http://127.0.0.1:${proxy.port}`;
    let c: ConnectorClient;
    try {
      // The proxy is read when the client's pipeline is built, as the SDK's proxyPolicy does.
      c = client('http://connector.invalid/teams/');
    } finally {
      if (saved === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved;
    }

    // connector.invalid does not resolve: only the proxy can have answered.
    expect((await c.conversations.replyToActivity('a:1', 'm1', activity)).id).toBe('via-proxy');
    expect(proxy.seen.map((s) => s.url)).toEqual(['http://connector.invalid/teams/v3/conversations/a%3A1/activities/m1']);
    expect(proxy.seen[0]!.headers.authorization).toMatch(/^Bearer aad-token-/);
  });

  it('fail with the status code when the connector refuses the activity (400), and do not retry it', async () => {
    const { url, seen } = await connector([{ status: 400, body: { error: { code: 'BadArgument' } } }]);

    await expect(client(url).conversations.replyToActivity('a:1', 'm1', { type: 'message' })).rejects.toMatchObject({ name: 'RestError', statusCode: 400 });
    expect(seen).toHaveLength(1);
  });
});
