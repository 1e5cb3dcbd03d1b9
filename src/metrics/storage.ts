/**
 * The store for operators: what the SQLite read-ahead (src/storage/sqlite-warmer.ts) did. A growing
 * `overdue` means turns stopped waiting for the disk after 100 ms: the host's disk stalls, or the
 * store outgrew its page cache. Counts are read from the store at scrape time; no labels but the result.
 */
import { Counter, type Registry } from 'prom-client';
import type { WarmStats } from '../storage/sqlite-warmer';

export interface StorageMetrics {
  /** Where the read-ahead's counts are read at scrape time (absent on PostgreSQL and in memory). */
  setReadAheadSource(source: () => WarmStats | undefined): void;
}

const RESULTS = ['warmed', 'overdue', 'recent'] as const;

export function storageMetrics(registry: Registry, prefix: string): StorageMetrics {
  let source: (() => WarmStats | undefined) | undefined;
  new Counter({
    name: `${prefix}sqlite_read_ahead_total`,
    help: "SQLite read-ahead of a returning conversation's pages on a worker thread, by result: warmed (read before the turn), overdue (the turn stopped waiting after 100 ms: the disk stalls), recent (not needed: read by this process within the last minute).",
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      const stats = source?.();
      this.reset();
      if (!stats) return;
      // Mirrors the store's own counts, which only grow.
      for (const result of RESULTS) this.inc({ result }, stats[result]);
    },
  });
  new Counter({
    name: `${prefix}sqlite_read_ahead_wait_seconds_total`,
    help: 'Seconds turns spent waiting for their SQLite read-ahead, in all (divided by warmed + overdue: the mean wait; a turn waits 0.1 s at most).',
    registers: [registry],
    collect() {
      this.reset();
      const stats = source?.();
      if (stats) this.inc(stats.waitedMs / 1000);
    },
  });
  return { setReadAheadSource: (s) => void (source = s) };
}
