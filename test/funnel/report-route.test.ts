/**
 * GET /report on the assembled application over real HTTP: behind the same check as /metrics (the
 * same status for a missing or wrong token, refused from the network without one, on the separate
 * listener with METRICS_BIND), served as a script-free HTML page, its query validated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReportPages } from '../../src/funnel/pages';
import { metricsExposure } from '../../src/metrics/http';
import { REPORT_NOW, seedConversations, startSeedApp, type SeededApp } from './real-flow';
import { textOf } from './page-text';

const TOKEN = 'report-route-token-0123456789';
const WINDOW = 'from=2026-11-20&to=2026-11-21';

/** One seeded, listening app per describe block (seeding runs the real flow: not per test). */
function useServer(env: Record<string, string> = {}) {
  const server = { url: '', seeded: undefined as SeededApp | undefined };
  beforeAll(async () => {
    server.seeded = await startSeedApp(env);
    await seedConversations(server.seeded);
    server.url = (await server.seeded.app.listen(0, '127.0.0.1')).url;
  });
  afterAll(() => server.seeded?.close());
  return server;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const bearer = { authorization: `Bearer ${TOKEN}` };

describe('GET /report with METRICS_TOKEN', () => {
  const server = useServer({ METRICS_TOKEN: TOKEN });

  it('answers a missing or wrong token as /metrics does, and serves the page with it', async () => {
    const { url } = server;
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }] as Record<string, string>[]) {
      const metrics = await get(`${url}/metrics`, headers);
      const report = await get(`${url}/report?${WINDOW}`, headers);
      expect(report.status).toBe(401);
      expect(report.status).toBe(metrics.status);
      expect(report.headers.get('www-authenticate')).toBe(metrics.headers.get('www-authenticate'));
      expect(report.text).not.toContain('Conversations');
    }

    const ok = await get(`${url}/report?${WINDOW}`, bearer);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(ok.headers.get('cache-control')).toBe('no-store');
    const csp = ok.headers.get('content-security-policy')!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src|unsafe/);
    expect(textOf(ok.text)).toContain('Conversations 7');
    expect(ok.text).toContain('<svg');
  });

  it('writes the page in the language asked for, over the default 7 days without a window', async () => {
    const { url } = server;
    const uk = await get(`${url}/report?${WINDOW}&lang=uk`, bearer);
    expect(uk.status).toBe(200);
    expect(uk.headers.get('content-language')).toBe('uk');
    expect(textOf(uk.text)).toContain('Розмов 7');
    // The app's clock is 2026-11-20 12:00: the last 7 days hold the seeded morning.
    expect(textOf((await get(`${url}/report`, bearer)).text)).toContain('Conversations 7');
    expect(textOf((await get(`${url}/report?${WINDOW}&channel=webex&mode=self`, bearer)).text)).toContain('Conversations 1');
  });

  it.each([
    ['days=abc', 'days'],
    ['days=0', 'days'],
    ['days=4000', 'days'],
    ['lang=fr', 'lang'],
    ['lang=en&lang=uk', 'lang'],
    ['from=yesterday', 'from'],
    ['from=2026-11-21&to=2026-11-20', 'from'],
    ['from=2020-01-01', 'from'],
    ['days=7&from=2026-11-01', 'days'],
    ['mode=robot', 'mode'],
    ['channel=%3Cscript%3E', 'channel'],
    ['token=abc', 'query'],
  ])('refuses ?%s with 400, naming the parameter', async (query, name) => {
    const res = await get(`${server.url}/report?${query}`, bearer);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.text).toContain(`${name}:`);
    expect(res.text).not.toContain('<script>');
  });

  it('checks the token before the query: a bad query without the token is 401, not 400', async () => {
    expect((await get(`${server.url}/report?lang=fr`)).status).toBe(401);
  });
});

describe('GET /report without a token', () => {
  const server = useServer();

  it('is served to this machine and refused, as /metrics is, to a request from the network', async () => {
    const { url } = server;
    expect((await get(`${url}/report?${WINDOW}`)).status).toBe(200);
    for (const headers of [{ 'x-forwarded-for': '203.0.113.7' }, { forwarded: 'for=203.0.113.7' }, { 'x-real-ip': '203.0.113.7' }] as Record<string, string>[]) {
      const report = await get(`${url}/report?${WINDOW}`, headers);
      expect(report.status).toBe(403);
      expect(report.status).toBe((await get(`${url}/metrics`, headers)).status);
      expect(report.text).not.toContain('Conversations');
    }
  });

});

describe('GET /report without a token and without loopback trust', () => {
  const server = useServer({ TRUST_LOOPBACK: 'false' });

  it('is refused even to a direct loopback peer (a proxy on this machine)', async () => {
    expect((await get(`${server.url}/report?${WINDOW}`)).status).toBe(403);
  });
});

describe('GET /report with METRICS_BIND', () => {
  const server = useServer({ METRICS_BIND: '127.0.0.1:0', METRICS_TOKEN: TOKEN });

  it('lives on the separate listener beside /metrics, behind its token, and not on the public server', async () => {
    expect((await get(`${server.url}/report?${WINDOW}`, bearer)).status).toBe(404);

    const { app } = server.seeded!;
    const pages = createReportPages({ db: () => app.store.db, translator: app.translator, idleMinutes: 30, clock: () => REPORT_NOW });
    const exposure = metricsExposure({ METRICS_BIND: '127.0.0.1:0', METRICS_TOKEN: TOKEN }, app.metrics, app.logger, undefined, pages);
    expect(exposure.plugin).toBeUndefined();
    const listener = await exposure.startListener!();
    try {
      const report = listener.url.replace(/\/metrics$/, '/report');
      expect((await get(`${report}?${WINDOW}`)).status).toBe(401);
      expect((await get(`${report}?lang=fr`, bearer)).status).toBe(400);
      const ok = await get(`${report}?${WINDOW}`, bearer);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(textOf(ok.text)).toContain('Conversations 7');
    } finally {
      await listener.close();
    }
  });
});
