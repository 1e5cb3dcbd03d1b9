import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/limits/rate-limiter';
import { clientAddress } from '../../src/limits/client-address';

describe('RateLimiter (token bucket, fixed clock)', () => {
  it('allows a burst of `capacity`, then answers with the seconds until the next token', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter({ capacity: 2, refillPerSecond: 1 / 30 }, { clock: () => now });
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 30 });
    now += 10_000;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 20 });
    now += 20_000;
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('keeps one bucket per key', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1 }, { clock: () => 0 });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('never refills past capacity', () => {
    let now = 0;
    const limiter = new RateLimiter({ capacity: 2, refillPerSecond: 1 }, { clock: () => now });
    limiter.take('a');
    now += 3600_000;
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')].map((d) => d.allowed)).toEqual([true, true, false]);
  });

  it('tracks at most maxKeys keys, forgetting the least recently used', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 0.001 }, { clock: () => 0, maxKeys: 2 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('a');
    limiter.take('c');
    expect(limiter.size).toBe(2);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });
});

describe('clientAddress', () => {
  const proxies = new Set(['10.0.0.5', '10.0.0.6']);

  it('is the peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress('203.0.113.9', { 'x-forwarded-for': '198.51.100.1' }, proxies)).toBe('203.0.113.9');
  });

  it('is the right-most untrusted X-Forwarded-For address behind trusted proxies', () => {
    expect(clientAddress('10.0.0.5', { 'x-forwarded-for': '1.2.3.4, 198.51.100.7, 10.0.0.6' }, proxies)).toBe('198.51.100.7');
  });

  it('ignores what a client prepends to X-Forwarded-For', () => {
    const a = clientAddress('10.0.0.5', { 'x-forwarded-for': 'spoofed, 192.0.2.1, 198.51.100.7' }, proxies);
    const b = clientAddress('10.0.0.5', { 'x-forwarded-for': '192.0.2.99, 198.51.100.7' }, proxies);
    expect(a).toBe('198.51.100.7');
    expect(b).toBe(a);
  });

  it('is the proxy itself when X-Forwarded-For is missing or holds only proxies', () => {
    expect(clientAddress('10.0.0.5', {}, proxies)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', { 'x-forwarded-for': '10.0.0.6' }, proxies)).toBe('10.0.0.5');
  });

  it('treats IPv4-mapped IPv6 peers as their IPv4 address', () => {
    expect(clientAddress('::ffff:10.0.0.5', { 'x-forwarded-for': '198.51.100.7' }, proxies)).toBe('198.51.100.7');
    expect(clientAddress('::ffff:203.0.113.9', {}, proxies)).toBe('203.0.113.9');
  });
});
