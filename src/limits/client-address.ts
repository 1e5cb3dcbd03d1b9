/**
 * Which client a request comes from, for per-client limits. The peer address, unless the peer is one
 * of the reverse proxies we were told to trust (TRUSTED_PROXIES): then the right-most address in
 * X-Forwarded-For that is not itself a trusted proxy. Anything a client writes to the left of that is
 * ignored, so a client cannot pick a fresh identity by sending its own X-Forwarded-For.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

export function normaliseAddress(address: string): string {
  const a = address.trim();
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a.toLowerCase();
}

export function clientAddress(peer: string | undefined, headers: IncomingHttpHeaders, trustedProxies: ReadonlySet<string>): string {
  const direct = normaliseAddress(peer ?? 'unknown');
  if (!trustedProxies.has(direct)) return direct;
  const raw = headers['x-forwarded-for'];
  const hops = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).split(',').map((h) => normaliseAddress(h)).filter((h) => isIP(h) !== 0);
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    if (!trustedProxies.has(hops[i]!)) return hops[i]!;
  }
  return direct;
}
