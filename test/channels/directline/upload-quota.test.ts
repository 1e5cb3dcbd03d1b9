import { describe, expect, it } from 'vitest';
import { decideUpload, MemoryUploadQuota, type CountedUpload } from '../../../src/channels/directline/upload-quota';

const HOUR = 3600_000;
const NOW = new Date('2026-11-25T12:00:00.000Z');
const LIMITS = { maxFiles: 3, maxBytes: 1000, windowMs: 24 * HOUR };

function counted(files: Array<{ hoursAgo: number; size: number }>): CountedUpload[] {
  return files.map((f) => ({ at: NOW.getTime() - f.hoursAgo * HOUR, files: 1, bytes: f.size }));
}

describe('decideUpload (per conversation, sliding window)', () => {
  it('allows files while the count and bytes in the window stay within the limits', () => {
    expect(decideUpload(counted([{ hoursAgo: 1, size: 100 }, { hoursAgo: 2, size: 100 }]), [800], LIMITS, NOW)).toEqual({ allowed: true });
  });

  it('refuses one file too many until the oldest counted file leaves the window', () => {
    const decision = decideUpload(counted([{ hoursAgo: 20, size: 10 }, { hoursAgo: 5, size: 10 }, { hoursAgo: 1, size: 10 }]), [10], LIMITS, NOW);
    expect(decision).toEqual({ allowed: false, reason: 'files', retryAfterSeconds: 4 * 3600 });
  });

  it('refuses bytes over the limit until enough old files leave the window', () => {
    const earlier = counted([{ hoursAgo: 23, size: 300 }, { hoursAgo: 10, size: 500 }]);
    expect(decideUpload(earlier, [400], LIMITS, NOW)).toEqual({ allowed: false, reason: 'bytes', retryAfterSeconds: 1 * 3600 });
    expect(decideUpload(earlier, [600], LIMITS, NOW)).toEqual({ allowed: false, reason: 'bytes', retryAfterSeconds: 14 * 3600 });
  });

  it('does not count files older than the window', () => {
    expect(decideUpload(counted([{ hoursAgo: 25, size: 900 }, { hoursAgo: 30, size: 900 }, { hoursAgo: 48, size: 900 }]), [900], LIMITS, NOW)).toEqual({
      allowed: true,
    });
  });

  it('counts an upload of several files as that many files', () => {
    const two: CountedUpload[] = [{ at: NOW.getTime() - HOUR, files: 2, bytes: 20 }];
    expect(decideUpload(two, [10, 10], LIMITS, NOW)).toMatchObject({ allowed: false, reason: 'files' });
    expect(decideUpload(two, [10], LIMITS, NOW)).toEqual({ allowed: true });
  });
});

describe('MemoryUploadQuota (a bot without a SQL store)', () => {
  it('grants parallel reservations only up to the limits', async () => {
    const quota = new MemoryUploadQuota(LIMITS);
    const decisions = await Promise.all(Array.from({ length: 10 }, () => quota.reserve('c', [100], NOW)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
  });

  it('gives the room back when a reservation is released', async () => {
    const quota = new MemoryUploadQuota(LIMITS);
    const first = await quota.reserve('c', [1000], NOW);
    expect(first.allowed).toBe(true);
    expect((await quota.reserve('c', [1], NOW)).allowed).toBe(false);
    if (first.allowed) await quota.release(first.reservation);
    expect((await quota.reserve('c', [1000], NOW)).allowed).toBe(true);
  });

  it('keeps conversations apart', async () => {
    const quota = new MemoryUploadQuota(LIMITS);
    expect((await quota.reserve('a', [1000], NOW)).allowed).toBe(true);
    expect((await quota.reserve('b', [1000], NOW)).allowed).toBe(true);
  });
});
