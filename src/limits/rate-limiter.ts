/**
 * A token bucket per key (a client address), in memory: `capacity` requests at once, then
 * `refillPerSecond`. Buckets are kept for the most recently seen `maxKeys` keys; a key pushed out
 * starts again with a full bucket, which only ever errs on the side of letting a request through.
 * Per process: with several instances behind a load balancer each one limits on its own.
 */
import { LRUCache } from 'lru-cache';

export interface RateLimit {
  capacity: number;
  refillPerSecond: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  /** Bounded, so a flood of new addresses costs a fixed amount of memory. */
  private readonly buckets: LRUCache<string, Bucket>;
  private readonly clock: () => number;

  constructor(
    readonly limit: RateLimit,
    options: { clock?: () => number; maxKeys?: number } = {},
  ) {
    if (!(limit.capacity >= 1) || !(limit.refillPerSecond > 0)) throw new RangeError('a rate limit needs capacity >= 1 and a positive refill rate');
    this.clock = options.clock ?? Date.now;
    this.buckets = new LRUCache({ max: options.maxKeys ?? 10_000 });
  }

  /** Takes one token for `key`, or says how many whole seconds until one is there. */
  take(key: string): RateDecision {
    const now = this.clock();
    const bucket = this.refilled(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    // The epsilon keeps float noise (20.000000001 s) from adding a whole second.
    const wait = (1 - bucket.tokens) / this.limit.refillPerSecond;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait - 1e-6)) };
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, now: number): Bucket {
    // `get` and `set` both count as a use: the key becomes the most recently used.
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.capacity, at: now };
    const elapsedSeconds = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(this.limit.capacity, bucket.tokens + elapsedSeconds * this.limit.refillPerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    return bucket;
  }
}
