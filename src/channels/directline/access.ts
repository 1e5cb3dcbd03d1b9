/**
 * Who may use the web chat:
 * - a browser on this machine (loopback peer, no proxy headers) may open the page and start conversations;
 * - anyone else needs the site token (`WEBCHAT_TOKEN`), given as `?token=` to the page or as a Bearer token
 *   to `POST /directline/conversations`; with no token configured they are refused;
 * - every conversation has its own random secret, handed only to the browser that started it, and every
 *   request about that conversation must carry it: one browser cannot read another's conversation.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

/** Headers a reverse proxy or tunnel adds: a request carrying them did not start on this machine. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'cf-connecting-ip', 'x-original-url'];

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (a === '::1') return true;
  return isIP(a) === 4 && a.startsWith('127.');
}

/** True when the request comes straight from this machine (a tunnel or proxy on this machine does not count). */
export function isLocalRequest(remoteAddress: string | undefined, headers: IncomingHttpHeaders): boolean {
  if (!isLoopbackAddress(remoteAddress)) return false;
  return !FORWARDING_HEADERS.some((h) => headers[h] !== undefined);
}

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

export class SiteAccess {
  private readonly tokenHash?: string;

  constructor(siteToken: string | undefined) {
    this.tokenHash = siteToken ? sha256(siteToken) : undefined;
  }

  get tokenConfigured(): boolean {
    return this.tokenHash !== undefined;
  }

  /**
   * May this request open the page or start a conversation? Local requests always may; others only
   * with the site token.
   */
  allows(remoteAddress: string | undefined, headers: IncomingHttpHeaders, presented: string | undefined): boolean {
    if (isLocalRequest(remoteAddress, headers)) return true;
    return this.tokenHash !== undefined && matchesHash(presented, this.tokenHash);
  }
}
