import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/limits/rate-limiter';

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
