/**
 * Where a request comes from: the one place every route asks "is this this machine?", "which client
 * is this, for a limit?" and "did it arrive over HTTPS?".
 *
 * - Local: a loopback peer with no forwarding header at all (any proxy or tunnel header means the
 *   request started elsewhere), and only while TRUST_LOOPBACK is on: behind a same-host proxy that
 *   adds no header, an operator turns it off and nobody is local.
 * - Client: the peer address, unless the peer is a listed proxy (TRUSTED_PROXIES): then the
 *   right-most X-Forwarded-For address that is not itself a listed proxy. Anything a client writes to
 *   the left of that is ignored, so nobody picks a fresh identity with their own header. IPv6 clients
 *   are keyed by their /64: one host usually owns the whole prefix.
 * - HTTPS: the socket is TLS, or a listed proxy says so in X-Forwarded-Proto.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Headers a reverse proxy or tunnel adds: a request carrying any of them did not start on this machine. */
export const FORWARDING_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'cf-connecting-ip',
  'true-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'x-original-url',
  'fastly-client-ip',
] as const;

export function normaliseAddress(address: string): string {
  const a = address.trim().replace(/^\[|\]$/g, '');
  const mapped = a.toLowerCase().startsWith('::ffff:') ? a.slice(7) : undefined;
  return mapped && isIP(mapped) === 4 ? mapped : a.toLowerCase();
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = normaliseAddress(address);
  if (isIP(a) === 6) return expandIpv6(a)?.join(':') === '0:0:0:0:0:0:0:1';
  return isIP(a) === 4 && a.startsWith('127.');
}

/** A host name that means this machine: `localhost`, `*.localhost` (RFC 6761) or a loopback address. */
export function isLoopbackHostName(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || isLoopbackAddress(h);
}

export function hasForwardingHeaders(headers: IncomingHttpHeaders): boolean {
  return FORWARDING_HEADERS.some((h) => headers[h] !== undefined);
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function expandIpv6(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.split('%')[0]!;
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  const groups = [...left, ...(tail !== undefined ? Array<string>(missing).fill('0') : []), ...right];
  return groups.length === 8 ? groups.map((g) => parseInt(g, 16)) : undefined;
}

/** The key a per-client limit counts under: the IPv4 address, or the IPv6 /64 prefix. */
export function clientKey(address: string): string {
  const a = normaliseAddress(address);
  const groups = expandIpv6(a);
  if (!groups) return a;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

export interface RequestOriginOptions {
  /** TRUST_LOOPBACK: a direct loopback peer is "this machine". */
  trustLoopback: boolean;
  /** TRUSTED_PROXIES. */
  trustedProxies: readonly string[];
}

type Req = Pick<IncomingMessage, 'headers'> & { socket: { remoteAddress?: string | undefined; encrypted?: boolean } };

export class RequestOrigin {
  private readonly proxies: ReadonlySet<string>;

  constructor(private readonly opts: RequestOriginOptions) {
    this.proxies = new Set(opts.trustedProxies.map(normaliseAddress));
  }

  /** Straight from this machine: a loopback peer, no forwarding headers, and loopback trusted. */
  isLocal(req: Req): boolean {
    return this.opts.trustLoopback && isLoopbackAddress(req.socket.remoteAddress) && !hasForwardingHeaders(req.headers);
  }

  /** The client's address as far as we can trust it (see the module comment). */
  clientAddress(req: Req): string {
    const direct = normaliseAddress(req.socket.remoteAddress ?? 'unknown');
    if (!this.proxies.has(direct)) return direct;
    const raw = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
      .split(',')
      .map((h) => normaliseAddress(h))
      .filter((h) => isIP(h) !== 0);
    for (let i = hops.length - 1; i >= 0; i -= 1) {
      if (!this.proxies.has(hops[i]!)) return hops[i]!;
    }
    return direct;
  }

  /** The key per-client limits count under (IPv6 by /64). */
  clientKey(req: Req): string {
    return clientKey(this.clientAddress(req));
  }

  /** Did the client reach us over HTTPS? X-Forwarded-Proto counts only from a listed proxy. */
  isHttps(req: Req): boolean {
    if (req.socket.encrypted) return true;
    if (!this.proxies.has(normaliseAddress(req.socket.remoteAddress ?? ''))) return false;
    const raw = req.headers['x-forwarded-proto'];
    const first = (Array.isArray(raw) ? raw[0] : raw)?.split(',')[0]?.trim().toLowerCase();
    return first === 'https';
  }
}

/** The defaults of a fresh machine (tests and tools that build parts without a Config). */
export const DEFAULT_ORIGIN = new RequestOrigin({ trustLoopback: true, trustedProxies: [] });
