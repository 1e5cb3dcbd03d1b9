/**
 * Issue 14, item 7 (part): the web chat's site token must not live in the page's URL, where it stays in
 * the history, Referer headers and logs. `/?token=…` is traded for an HttpOnly, SameSite=Strict cookie
 * (Secure over HTTPS) that is not the token itself, and the browser is sent on to the address without
 * it. Item 10 (part): every response of the page says which browser features it will never use.
 * Over real HTTP from "another machine" (a forwarding header: not this machine).
 */
import { describe, expect, it } from 'vitest';
import { useShared } from '../../support';
import { DirectLineTestClient, startBot } from './harness';

const SITE_TOKEN = 'site-token-for-the-cookie-test-0123';
const REMOTE = { 'x-forwarded-for': '203.0.113.9' };

function cookiePair(setCookie: string | null): string {
  return (setCookie ?? '').split(';')[0]!;
}

describe('trading the site token for a cookie', () => {
  const bot = useShared(() => startBot({ WEBCHAT_TOKEN: SITE_TOKEN }));

  const page = (path: string, headers: Record<string, string> = {}) => fetch(`${bot.url}${path}`, { headers: { ...REMOTE, ...headers }, redirect: 'manual' });

  it('answers /?token=… with a redirect to the same address without the token, and a cookie that is not the token', async () => {
    const res = await page(`/?lang=uk&token=${SITE_TOKEN}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?lang=uk');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^pce_site=[A-Za-z0-9_-]{20,};/);
    expect(cookie).toMatch(/; HttpOnly(;|$)/);
    expect(cookie).toMatch(/; SameSite=Strict(;|$)/);
    expect(cookie).toMatch(/; Path=\/(;|$)/);
    // Plain HTTP from an untrusted peer: a Secure cookie would not come back.
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).not.toContain(SITE_TOKEN);
  });

  it('lets the page and a new conversation in with the cookie, and not without it', async () => {
    const cookie = cookiePair((await page(`/?token=${SITE_TOKEN}`)).headers.get('set-cookie'));
    expect((await page('/', { cookie })).status).toBe(200);
    expect((await page('/')).status).toBe(403);
    const dl = new DirectLineTestClient(bot.url);
    expect((await dl.start({ ...REMOTE, cookie })).status).toBe(201);
    expect((await dl.start(REMOTE)).status).toBe(403);
    // Non-browser clients keep the Bearer token.
    expect((await dl.start({ ...REMOTE, authorization: `Bearer ${SITE_TOKEN}` })).status).toBe(201);
  });

  it('accepts no cookie it did not hand out: neither a made-up value nor the token itself', async () => {
    const dl = new DirectLineTestClient(bot.url);
    for (const cookie of ['pce_site=made-up-value-0123456789', `pce_site=${SITE_TOKEN}`, `__Host-pce_site=${SITE_TOKEN}`, `token=${SITE_TOKEN}`]) {
      expect((await page('/', { cookie })).status).toBe(403);
      expect((await dl.start({ ...REMOTE, cookie })).status).toBe(403);
    }
  });

  it('takes a wrong token out of the address too, without a cookie', async () => {
    const res = await page('/?token=not-the-site-token-0123456789&lang=en');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?lang=en');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('never serves the page itself at an address with the token, not even to this machine', async () => {
    const res = await fetch(`${bot.url}/?token=${SITE_TOKEN}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
  });

  it('says on every page response that the page uses no camera, microphone, location or other device', async () => {
    const cookie = cookiePair((await page(`/?token=${SITE_TOKEN}`)).headers.get('set-cookie'));
    const responses = [await page(`/?token=${SITE_TOKEN}`), await page('/', { cookie }), await page('/'), await fetch(`${bot.url}/`)];
    expect(responses.map((r) => r.status)).toEqual([303, 200, 403, 200]);
    for (const res of responses) {
      const policy = res.headers.get('permissions-policy') ?? '';
      for (const feature of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) expect(policy).toContain(`${feature}=()`);
    }
    // The page's CSP stays strict: scripts from this server only, nothing inline.
    const csp = responses[1]!.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toContain("object-src 'none'");
  });
});

describe('the site cookie over HTTPS', () => {
  it('is Secure with the __Host- prefix when a trusted proxy says HTTPS, and not when anyone else says so', async () => {
    const bot = await startBot({ WEBCHAT_TOKEN: SITE_TOKEN, TRUSTED_PROXIES: '127.0.0.1' });
    try {
      const viaProxy = await fetch(`${bot.url}/?token=${SITE_TOKEN}`, { headers: { ...REMOTE, 'x-forwarded-proto': 'https' }, redirect: 'manual' });
      const cookie = viaProxy.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^__Host-pce_site=/);
      expect(cookie).toMatch(/; Secure(;|$)/);
      const pair = cookiePair(cookie);
      expect((await fetch(`${bot.url}/`, { headers: { ...REMOTE, 'x-forwarded-proto': 'https', cookie: pair } })).status).toBe(200);
      expect((await new DirectLineTestClient(bot.url).start({ ...REMOTE, cookie: pair })).status).toBe(201);
    } finally {
      await bot.stop();
    }
    const untrusting = await startBot({ WEBCHAT_TOKEN: SITE_TOKEN });
    try {
      const res = await fetch(`${untrusting.url}/?token=${SITE_TOKEN}`, { headers: { ...REMOTE, 'x-forwarded-proto': 'https' }, redirect: 'manual' });
      expect(res.headers.get('set-cookie') ?? '').not.toMatch(/Secure|__Host-/);
    } finally {
      await untrusting.stop();
    }
  });

  it('no longer lets anyone in once WEBCHAT_TOKEN is changed', async () => {
    const before = await startBot({ WEBCHAT_TOKEN: SITE_TOKEN });
    let cookie: string;
    try {
      cookie = cookiePair((await fetch(`${before.url}/?token=${SITE_TOKEN}`, { headers: REMOTE, redirect: 'manual' })).headers.get('set-cookie'));
    } finally {
      await before.stop();
    }
    const after = await startBot({ WEBCHAT_TOKEN: 'a-new-site-token-after-rotation-0123' });
    try {
      expect((await fetch(`${after.url}/`, { headers: { ...REMOTE, cookie } })).status).toBe(403);
    } finally {
      await after.stop();
    }
  });
});
