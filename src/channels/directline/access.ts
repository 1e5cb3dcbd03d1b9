/**
 * Who may use the web chat:
 * - a browser on this machine (`RequestOrigin.isLocal`: loopback peer, no proxy headers, TRUST_LOOPBACK)
 *   may open the page and start conversations;
 * - anyone else needs the site token (`WEBCHAT_TOKEN`), given as `?token=` to the page or as a Bearer token
 *   to `POST /directline/conversations`; with no token configured they are refused;
 * - every conversation has its own random secret, handed only to the browser that started it, and every
 *   request about that conversation must carry it: one browser cannot read another's conversation.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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

export class SiteAccess {
  private readonly tokenHash?: string;

  constructor(
    siteToken: string | undefined,
    private readonly origin: RequestOrigin = DEFAULT_ORIGIN,
  ) {
    this.tokenHash = siteToken ? sha256(siteToken) : undefined;
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
   * with the site token.
   */
  allows(req: Pick<IncomingMessage, 'headers' | 'socket'>, presented: string | undefined): boolean {
    if (this.origin.isLocal(req)) return true;
    return this.tokenHash !== undefined && matchesHash(presented, this.tokenHash);
  }
}
