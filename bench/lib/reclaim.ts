/**
 * Proactive reclaim: a DAMON scheme (Linux, /sys/kernel/mm/damon/admin) that pages out memory nobody
 * touched for a while, however much memory is free. The sandbox VMs this bench runs on have one: on
 * physical memory, the page cache's pages (anonymous memory excepted) idle for 60 s, up to 128 MiB
 * per second. A store the load does not keep touching (a million conversations, each returning person
 * one of them at random) is then read from the disk again page by page, with gigabytes free: the
 * scale phase notes the scheme and how much it paged out during each level's rounds.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DAMON_ADMIN = '/sys/kernel/mm/damon/admin';

export interface ReclaimScheme {
  /** kdamonds/<n>/contexts/<c>/schemes/<s> */
  path: string;
  /** What it watches: `paddr` (all physical memory) or a process's address space. */
  operations: string;
  /** A region not accessed for this long is paged out (age × aggregation interval). */
  idleSeconds: number;
  /** Its quota, when it has one. */
  mbPerSecond?: number;
  /** The page filters: `reject anon`, `allow unmapped` (the page cache no process maps), ... */
  filters: string[];
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};
const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => /^\d+$/.test(n)) : []);

/** Each running scheme that pages memory out. */
export function reclaimSchemes(root = DAMON_ADMIN): ReclaimScheme[] {
  const out: ReclaimScheme[] = [];
  for (const k of list(join(root, 'kdamonds'))) {
    const kdamond = join(root, 'kdamonds', k);
    if (read(join(kdamond, 'state')) !== 'on') continue;
    for (const c of list(join(kdamond, 'contexts'))) {
      const context = join(kdamond, 'contexts', c);
      const aggrUs = Number(read(join(context, 'monitoring_attrs', 'intervals', 'aggr_us')));
      for (const s of list(join(context, 'schemes'))) {
        const scheme = join(context, 'schemes', s);
        if (read(join(scheme, 'action')) !== 'pageout') continue;
        const age = Number(read(join(scheme, 'access_pattern', 'age', 'min')));
        const bytes = Number(read(join(scheme, 'quotas', 'bytes')));
        const resetMs = Number(read(join(scheme, 'quotas', 'reset_interval_ms')));
        const filters: string[] = [];
        for (const kind of ['ops_filters', 'filters']) {
          for (const f of list(join(scheme, kind))) {
            const filter = join(scheme, kind, f);
            const type = read(join(filter, 'type'));
            if (type) filters.push(`${read(join(filter, 'allow')) === 'Y' ? 'allow' : 'reject'} ${read(join(filter, 'matching')) === 'N' ? 'non-' : ''}${type}`);
          }
        }
        out.push({
          path: `kdamonds/${k}/contexts/${c}/schemes/${s}`,
          operations: read(join(context, 'operations')) ?? '?',
          idleSeconds: Math.round((age * aggrUs) / 1e6),
          ...(bytes > 0 && resetMs > 0 ? { mbPerSecond: Math.round(((bytes / 1e6) * 1000) / resetMs) } : {}),
          filters,
        });
      }
    }
  }
  return out;
}

/**
 * Bytes the running pageout schemes have paged out so far (their statistics, refreshed first; that
 * needs root), or undefined when there are none or they cannot be read.
 */
export function pagedOutBytes(root = DAMON_ADMIN): number | undefined {
  const schemes = reclaimSchemes(root);
  if (schemes.length === 0) return undefined;
  let total = 0;
  for (const k of new Set(schemes.map((s) => s.path.split('/contexts/')[0]!))) {
    try {
      writeFileSync(join(root, k, 'state'), 'update_schemes_stats');
    } catch {
      return undefined;
    }
  }
  for (const s of schemes) {
    const applied = Number(read(join(root, s.path, 'stats', 'sz_applied')));
    if (!Number.isFinite(applied)) return undefined;
    total += applied;
  }
  return total;
}

/** One line for the report: what pages memory out on this machine, or nothing. */
export function describeReclaim(schemes: ReclaimScheme[]): string | undefined {
  if (schemes.length === 0) return undefined;
  return schemes
    .map((s) => `DAMON pages out ${s.filters.length ? `(${s.filters.join(', ')}) ` : ''}memory idle for ${s.idleSeconds} s${s.mbPerSecond ? `, up to ${s.mbPerSecond} MB/s` : ''} (${s.operations})`)
    .join('; ');
}
