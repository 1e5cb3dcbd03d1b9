/**
 * The bot on a network, attacked over real HTTP as the issue-14 probe did: an open relay through
 * /api/messages without an app id, forwarded "local" requests, DNS rebinding through the Host header,
 * /metrics behind any forwarding header, slow bodies and connection floods. Each test asserts the
 * defence: the status, and that nothing went out (the fake connector and a trap server see nothing).
 */
import { request, createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTranslator } from '../../src/i18n';
import { FakeConnector } from '../channels/botframework/fake-connector';
import { startBot, useFakeConnector } from '../channels/botframework/harness';
import { useShared, useTempDir } from '../support';

interface RawResponse {
  status: number;
  body: string;
}

/** A request with any headers, Host included (fetch does not let a caller set Host). */
function raw(url: string, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<RawResponse> {
  const target = new URL(opts.path ?? '/', url);
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: opts.method ?? 'GET',
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A server that must never be called: the internal address an attacker names as serviceUrl. */
async function trap(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":"x"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/internal-admin/`,
    hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function activity(serviceUrl: string, fields: Record<string, unknown> = {}) {
  return {
    type: 'message',
    id: `act-${Math.random().toString(36).slice(2)}`,
    channelId: 'msteams',
    serviceUrl,
    conversation: { id: 'c1' },
    from: { id: 'user-1', aadObjectId: 'aad-agent-1' },
    recipient: { id: 'bot' },
    text: 'triage',
    ...fields,
  };
}

const dir = useTempDir('pce-net-', 'all');

describe('/api/messages without an app id', () => {
  const connector = useFakeConnector();
  let internal: Awaited<ReturnType<typeof trap>>;
  beforeAll(async () => {
    internal = await trap();
  });
  afterAll(() => internal.close());
  const bot = useShared(() => startBot(dir.join('relay.sqlite'), { AGENT_IDS: 'aad-agent-1' }));

  it.each([
    ['X-Forwarded-For', { 'x-forwarded-for': '203.0.113.9' }],
    ['X-Real-IP', { 'x-real-ip': '203.0.113.9' }],
    ['Forwarded', { forwarded: 'for=203.0.113.9' }],
  ])('refuses a request forwarded from another host (%s) and calls nothing', async (_name, headers) => {
    const res = await raw(bot.url, { method: 'POST', path: '/api/messages', headers, body: activity(internal.url) });
    expect(res.status).toBe(403);
    await new Promise((r) => setTimeout(r, 100));
    expect(internal.hits).toEqual([]);
  });

  it.each(['http://203.0.113.50/', 'https://smba.trafficmanager.net/emea/', 'http://127.0.0.1.nip.io:8080/', 'http://[::ffff:7f00:1]x/'])(
    'refuses a local request whose serviceUrl %s is not on this machine',
    async (serviceUrl) => {
      const res = await raw(bot.url, { method: 'POST', path: '/api/messages', body: activity(serviceUrl) });
      expect([400, 403]).toContain(res.status);
    },
  );

  it('answers this machine with a loopback serviceUrl (the Emulator), but an unproven AAD id makes nobody an agent', async () => {
    const res = await raw(bot.url, { method: 'POST', path: '/api/messages', body: activity(connector.url, { conversation: { id: 'emu-1' } }) });
    expect(res.status).toBe(200);
    await expect.poll(() => connector.sentTo('emu-1').length).toBeGreaterThan(0);
    const said = connector.sentTo('emu-1').map((s) => JSON.stringify(s.activity)).join('\n');
    expect(said).toContain(JSON.stringify(createTranslator().t('en', 'agent:notAgent')).slice(1, -1));
  });
});

describe('/api/messages with the explicit opt-in', () => {
  it('takes forwarded requests again (an Emulator elsewhere), as the operator asked', async () => {
    const connector = new FakeConnector();
    await connector.start();
    const bot = await startBot(dir.join('open.sqlite'), { ALLOW_UNAUTHENTICATED_NETWORK: 'true' });
    try {
      const res = await raw(bot.url, {
        method: 'POST',
        path: '/api/messages',
        headers: { 'x-forwarded-for': '203.0.113.9' },
        body: activity(connector.url, { conversation: { id: 'open-1' }, text: 'hello' }),
      });
      expect(res.status).toBe(200);
    } finally {
      await bot.stop();
      await connector.close();
    }
  });
});

describe('the Host allow-list (DNS rebinding)', () => {
  const bot = useShared(() =>
    startBot(dir.join('hosts.sqlite'), { WEBCHAT_ENABLED: 'true', WEBCHAT_UPLOAD_DIR: dir.join('up'), PUBLIC_URL: 'https://bot.example.com', ALLOWED_HOSTS: 'chat.example.org' }),
  );

  it.each(['/', '/directline/conversations', '/metrics', '/api/messages'])('answers 421 on %s for a name that is not ours', async (path) => {
    const method = path === '/directline/conversations' || path === '/api/messages' ? 'POST' : 'GET';
    const res = await raw(bot.url, { method, path, headers: { host: 'evil.example:3978' }, body: method === 'POST' ? {} : undefined });
    expect(res.status).toBe(421);
  });

  it('starts no conversation for a rebinding page, even from this machine', async () => {
    const res = await raw(bot.url, { method: 'POST', path: '/directline/conversations', headers: { host: 'evil.example' }, body: {} });
    expect(res.status).toBe(421);
    const count = await (bot.app.store as unknown as { db: { selectFrom(t: string): { select(e: unknown): { executeTakeFirst(): Promise<{ n: number | string }> } } } }).db
      .selectFrom('directline_conversations')
      .select((eb: { fn: { countAll(): { as(n: string): unknown } } }) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    expect(Number(count.n)).toBe(0);
  });

  it.each(['localhost', '127.0.0.1', '[::1]', 'bot.example.com', 'BOT.example.com.', 'chat.example.org', '192.0.2.2'])('lets %s through', async (host) => {
    const port = new URL(bot.url).port;
    const res = await raw(bot.url, { path: '/', headers: { host: `${host}:${port}` } });
    expect(res.status).not.toBe(421);
  });

  it('does not check /healthz (load balancers use any name)', async () => {
    expect((await raw(bot.url, { path: '/healthz', headers: { host: 'lb-probe.internal' } })).status).toBe(200);
  });
});

describe('/metrics without a token', () => {
  const bot = useShared(() => startBot(dir.join('metrics.sqlite')));

  it.each<Record<string, string>>([{ 'x-real-ip': '1.2.3.4' }, { forwarded: 'for=1.2.3.4' }, { 'x-forwarded-for': '1.2.3.4' }, { 'cf-connecting-ip': '1.2.3.4' }])(
    'is refused to a request carrying a forwarding header %o',
    async (headers) => {
      const res = await raw(bot.url, { path: '/metrics', headers });
      expect(res.status).toBe(403);
      expect(res.body).not.toContain('bot_turns');
    },
  );

  it('is served to this machine', async () => {
    expect((await raw(bot.url, { path: '/metrics' })).status).toBe(200);
  });

  it('is refused even to a direct loopback peer when loopback trust is off (a proxy on this machine)', async () => {
    const strict = await startBot(dir.join('strict.sqlite'), { TRUST_LOOPBACK: 'false', WEBCHAT_ENABLED: 'true', WEBCHAT_UPLOAD_DIR: dir.join('up2') });
    try {
      expect((await raw(strict.url, { path: '/metrics' })).status).toBe(403);
      expect((await raw(strict.url, { method: 'POST', path: '/directline/conversations', body: {} })).status).toBe(403);
      expect((await raw(strict.url, { method: 'POST', path: '/api/messages', body: activity('http://127.0.0.1:9/') })).status).toBe(403);
    } finally {
      await strict.stop();
    }
  });
});

describe('slow and too many clients', () => {
  const bot = useShared(() => startBot(dir.join('slow.sqlite'), { HTTP_REQUEST_TIMEOUT_SECONDS: '1', HTTP_HEADERS_TIMEOUT_SECONDS: '1', HTTP_MAX_CONNECTIONS: '3' }));
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });

  function open(): Promise<Socket> {
    const { port } = new URL(bot.url);
    return new Promise((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1', () => resolve(s));
      s.on('error', reject);
      sockets.push(s);
    });
  }

  function closed(s: Socket): Promise<string> {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (text += c));
    return new Promise((resolve) => s.once('close', () => resolve(text)));
  }

  it('answers a body that never finishes 408 and closes the connection', async () => {
    const s = await open();
    const done = closed(s);
    s.write('POST /api/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":');
    const text = await done;
    expect(text).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection whose headers never finish', async () => {
    const s = await open();
    const done = closed(s);
    s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    expect(await done).not.toMatch(/200 OK/);
  });

  it('closes connections beyond the cap at once and keeps serving the others', async () => {
    const held = await Promise.all([open(), open(), open()]);
    for (const s of held) s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n'); // incomplete: held open
    const extra = await open();
    const text = await closed(extra);
    expect(text).toBe('');
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await raw(bot.url, { path: '/healthz' })).status).toBe(200);
  });
});

describe('rate limits for IPv6 clients', () => {
  it('counts every address of one /64 as one client, and another /64 apart', async () => {
    const siteToken = 'site-token-for-ipv6-tests-0123456789';
    const bot = await startBot(dir.join('v6.sqlite'), {
      WEBCHAT_ENABLED: 'true',
      WEBCHAT_UPLOAD_DIR: dir.join('up-v6'),
      WEBCHAT_TOKEN: siteToken,
      TRUSTED_PROXIES: '127.0.0.1',
      DIRECTLINE_CONVERSATIONS_PER_HOUR: '2',
    });
    const start = (client: string) =>
      raw(bot.url, { method: 'POST', path: '/directline/conversations', headers: { authorization: `Bearer ${siteToken}`, 'x-forwarded-for': client }, body: {} });
    try {
      expect((await start('2001:db8:1:2::a')).status).toBe(201);
      expect((await start('2001:db8:1:2:ffff::b')).status).toBe(201);
      // A fresh address from the same /64 is the same client.
      expect((await start('2001:db8:1:2:1234:5678:9abc:def0')).status).toBe(429);
      expect((await start('2001:db8:1:3::a')).status).toBe(201);
    } finally {
      await bot.stop();
    }
  });
});
