/**
 * The bench's reading of proactive reclaim (bench/lib/reclaim.ts) over a DAMON admin tree laid out as
 * the kernel's sysfs lays it out (the sandbox VM's scheme: file pages idle for 60 s, 128 MiB a second):
 * a running pageout scheme is described, a stopped one or another action is not, and the bytes it
 * paged out are summed after asking the kernel to refresh them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeReclaim, pagedOutBytes, reclaimSchemes } from '../../bench/lib/reclaim';
import { useTempDir } from '../support';

const dir = useTempDir('damon-');

function tree(files: Record<string, string>): string {
  const root = dir.join(`admin-${Math.random().toString(36).slice(2)}`);
  for (const [path, value] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${value}\n`);
  }
  return root;
}

const SCHEME = 'kdamonds/0/contexts/0/schemes/0';
const sandbox = (state = 'on', action = 'pageout') => ({
  'kdamonds/nr_kdamonds': '1',
  'kdamonds/0/state': state,
  'kdamonds/0/contexts/0/operations': 'paddr',
  'kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us': '5000000',
  [`${SCHEME}/action`]: action,
  [`${SCHEME}/access_pattern/age/min`]: '12',
  [`${SCHEME}/quotas/bytes`]: '134217728',
  [`${SCHEME}/quotas/reset_interval_ms`]: '1000',
  [`${SCHEME}/ops_filters/0/type`]: 'anon',
  [`${SCHEME}/ops_filters/0/allow`]: 'N',
  [`${SCHEME}/ops_filters/0/matching`]: 'Y',
  [`${SCHEME}/ops_filters/1/type`]: 'unmapped',
  [`${SCHEME}/ops_filters/1/allow`]: 'Y',
  [`${SCHEME}/ops_filters/1/matching`]: 'Y',
  [`${SCHEME}/stats/sz_applied`]: '22413144064',
});

describe('proactive reclaim as the bench reads it', () => {
  it('describes a running pageout scheme: what it spares, how idle, how fast', () => {
    const root = tree(sandbox());
    const schemes = reclaimSchemes(root);
    expect(schemes).toEqual([{ path: SCHEME, operations: 'paddr', idleSeconds: 60, mbPerSecond: 134, filters: ['reject anon', 'allow unmapped'] }]);
    expect(describeReclaim(schemes)).toBe('DAMON pages out (reject anon, allow unmapped) memory idle for 60 s, up to 134 MB/s (paddr)');
  });

  it('sums what it paged out, after asking the kernel to refresh the statistics', () => {
    const root = tree(sandbox());
    expect(pagedOutBytes(root)).toBe(22413144064);
    expect(readFileSync(join(root, 'kdamonds/0/state'), 'utf8')).toBe('update_schemes_stats');
  });

  it('finds nothing on a machine without DAMON, with it stopped, or with schemes that do not page out', () => {
    expect(reclaimSchemes(dir.join('no-such-dir'))).toEqual([]);
    expect(pagedOutBytes(dir.join('no-such-dir'))).toBeUndefined();
    expect(reclaimSchemes(tree(sandbox('off')))).toEqual([]);
    expect(reclaimSchemes(tree(sandbox('on', 'lru_prio')))).toEqual([]);
    expect(describeReclaim([])).toBeUndefined();
  });
});
