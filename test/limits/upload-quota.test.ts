import { describe, expect, it } from 'vitest';
import type { StoredFileMeta } from '../../src/channels/directline/uploads';
import { UploadQuota } from '../../src/limits/upload-quota';

const HOUR = 3600_000;
const NOW = new Date('2026-11-25T12:00:00.000Z');
const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * HOUR).toISOString();

function quota(files: Array<{ hoursAgo: number; size: number }>, limits = { maxFiles: 3, maxBytes: 1000, windowMs: 24 * HOUR }): UploadQuota {
  const metas: StoredFileMeta[] = files.map((f, i) => ({ name: `f${i}.png`, contentType: 'image/png', size: f.size, createdAt: at(f.hoursAgo) }));
  return new UploadQuota({ list: async () => metas }, limits);
}

describe('UploadQuota (per conversation, sliding window)', () => {
  it('allows files while the count and bytes in the window stay within the limits', async () => {
    expect(await quota([{ hoursAgo: 1, size: 100 }, { hoursAgo: 2, size: 100 }]).check('c', [800], NOW)).toEqual({ allowed: true });
  });

  it('refuses one file too many until the oldest counted file leaves the window', async () => {
    const decision = await quota([{ hoursAgo: 20, size: 10 }, { hoursAgo: 5, size: 10 }, { hoursAgo: 1, size: 10 }]).check('c', [10], NOW);
    expect(decision).toEqual({ allowed: false, reason: 'files', retryAfterSeconds: 4 * 3600 });
  });

  it('refuses bytes over the limit until enough old files leave the window', async () => {
    const decision = await quota([{ hoursAgo: 23, size: 300 }, { hoursAgo: 10, size: 500 }]).check('c', [400], NOW);
    expect(decision).toEqual({ allowed: false, reason: 'bytes', retryAfterSeconds: 1 * 3600 });
    const bigger = await quota([{ hoursAgo: 23, size: 300 }, { hoursAgo: 10, size: 500 }]).check('c', [600], NOW);
    expect(bigger).toEqual({ allowed: false, reason: 'bytes', retryAfterSeconds: 14 * 3600 });
  });

  it('does not count files older than the window', async () => {
    expect(await quota([{ hoursAgo: 25, size: 900 }, { hoursAgo: 30, size: 900 }, { hoursAgo: 48, size: 900 }]).check('c', [900], NOW)).toEqual({ allowed: true });
  });
});
