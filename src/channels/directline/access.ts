/**
 * Who may use the web chat:
 * - a browser on this machine (`RequestOrigin.isLocal`: loopback peer, no proxy headers, TRUST_LOOPBACK)
 *   may open the page and start conversations;
 * - anyone else needs the site token (`WEBCHAT_TOKEN`): a browser opens `/?token=…` once and trades it
 *   for a cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) that the page and
 *   `POST /directline/conversations` accept, so the token leaves the address bar, history, Referer and
 *   logs; other clients send it as a Bearer token. With no token configured they are refused;
 * - every conversation has its own random secret, handed only to the browser that started it, and every
 *   request about that conversation must carry it: one browser cannot read another's conversation.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { DEFAULT_ORIGIN, type RequestOrigin } from '../../security/client';

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const raw = headers.authorization;
  if (!raw) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(raw);
  return match?.[1];
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored sha256 hex digest. */
export function matchesHash(presented: string | undefined, expectedHash: string): boolean {
  if (!presented) return false;
  const a = Buffer.from(sha256(presented), 'hex');
  const b = Buffer.from(expectedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A random id for URLs (conversations, files). Hex, not base64url: an `_` in a URL that ends up in
 * markdown (a case summary) gets escaped and breaks the link.
 */
export function newId(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

/** The site cookie's name; `__Host-` (Secure, whole site, no Domain) when the browser came over HTTPS. */
export const SITE_COOKIE = 'pce_site';
const SITE_COOKIE_NAMES = new Set([SITE_COOKIE, `__Host-${SITE_COOKIE}`]);

/** The values of the site cookie in a Cookie header (a browser may send the name twice). */
export function siteCookies(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const pair of (headers.cookie ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && SITE_COOKIE_NAMES.has(pair.slice(0, at).trim())) out.push(pair.slice(at + 1).trim());
  }
  return out;
}

export class SiteAccess {
  private readonly tokenHash?: string;
  /**
   * What the cookie carries: an HMAC keyed by the site token, not the token itself, so a cookie that
   * leaks does not give away the token API clients use, and rotating WEBCHAT_TOKEN ends every cookie.
   */
  private readonly cookieValue?: string;
  private readonly cookieHash?: string;

  constructor(
    siteToken: string | undefined,
    private readonly origin: RequestOrigin = DEFAULT_ORIGIN,
  ) {
    this.tokenHash = siteToken ? sha256(siteToken) : undefined;
    this.cookieValue = siteToken ? createHmac('sha256', siteToken).update('pce web chat site cookie v1').digest('base64url') : undefined;
    this.cookieHash = this.cookieValue ? sha256(this.cookieValue) : undefined;
  }

  /** Straight from this machine (see src/security/client.ts). */
  isLocal(req: Pick<IncomingMessage, 'headers' | 'socket'>): boolean {
    return this.origin.isLocal(req);
  }

  get tokenConfigured(): boolean {
    return this.tokenHash !== undefined;
  }

  /**
   * May this request open the page or start a conversation? Local requests always may; others only
   * with the site token (`presented`) or the cookie it was traded for.
   */
  allows(req: Pick<IncomingMessage, 'headers' | 'socket'>, presented: string | undefined): boolean {
    if (this.origin.isLocal(req)) return true;
    if (this.tokenHash === undefined || this.cookieHash === undefined) return false;
    if (matchesHash(presented, this.tokenHash)) return true;
    const cookieHash = this.cookieHash;
    return siteCookies(req.headers).some((value) => matchesHash(value, cookieHash));
  }

  /**
   * The Set-Cookie header for a browser that presented the right site token, or undefined. Secure (and
   * `__Host-`) when the browser came over HTTPS, as far as `RequestOrigin.isHttps` can tell.
   */
  siteCookie(req: Pick<IncomingMessage, 'headers' | 'socket'>, presented: string | undefined): string | undefined {
    if (this.tokenHash === undefined || !this.cookieValue || !matchesHash(presented, this.tokenHash)) return undefined;
    const secure = this.origin.isHttps(req);
    return `${secure ? '__Host-' : ''}${SITE_COOKIE}=${this.cookieValue}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }
}
