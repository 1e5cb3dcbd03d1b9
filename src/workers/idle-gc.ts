/**
 * A full garbage collection once the bot has gone quiet (issue 19, memory). Under load V8 grows the
 * heap it has committed far past what is live (about 75 MB live in 300 MB committed during the
 * bench's memory phase, README "Performance") and keeps it while the process idles; one collection
 * that reduces memory gives it back. Only when `gc` is exposed (`node --expose-gc`, as `npm start`
 * runs), after the process has used almost no CPU for a while, once per quiet spell, and only when
 * there is something to gain (committed heap well above what is used, or used heap grown since the
 * last collection): never during traffic.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';

export interface HeapFigures {
  used: number;
  committed: number;
}

export interface IdleGcOptions {
  /** How often the process is looked at. */
  checkMs?: number;
  /** Quiet means the event loop was busy at most this share of the time, `quietChecks` looks in a row. */
  busyShare?: number;
  quietChecks?: number;
  /** Committed heap beyond used, or growth of used since the last collection, worth a collection. */
  minGainBytes?: number;
  /** Defaults: V8's memory-reducing collection (globalThis.gc), the event loop's utilisation, process.memoryUsage. */
  gc?: (() => void) | undefined;
  /**
   * The share of time the main thread was busy since the last call. The event loop's own measure,
   * not the process's CPU: SQLite's checkpointer thread may still be writing after a burst.
   */
  busyShareSinceLast?: () => number;
  heap?: () => HeapFigures;
  onCollected?: (before: HeapFigures, after: HeapFigures) => void;
}

export interface IdleGc {
  stop(): void;
}

function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Called without options: Node 20's V8 takes an options object ({ type: 'major' }) for a minor
  // collection (seen with --trace-gc), while a plain gc() is a full one. A full collection compacts
  // only the pages V8's heuristics pick, so after a long burst the live objects stayed spread over
  // pages that stay committed (77 MB used in 181-320 MB committed in the bench's memory phase); this
  // one collection compacts every page, and only it: the flag is set back at once.
  return (
    gc &&
    (() => {
      setFlagsFromString('--compact-on-every-full-gc');
      try {
        gc();
      } finally {
        setFlagsFromString('--no-compact-on-every-full-gc');
      }
    })
  );
}

export function collectWhenIdle(opts: IdleGcOptions = {}): IdleGc {
  const gc = 'gc' in opts ? opts.gc : exposedGc();
  if (!gc) return { stop: () => undefined };
  const checkMs = opts.checkMs ?? 5_000;
  const busyShare = opts.busyShare ?? 0.05;
  const quietChecks = opts.quietChecks ?? 2;
  const minGain = opts.minGainBytes ?? 32 * 1024 * 1024;
  let lastElu = performance.eventLoopUtilization();
  const busySince =
    opts.busyShareSinceLast ??
    (() => {
      const now = performance.eventLoopUtilization();
      const share = performance.eventLoopUtilization(now, lastElu).utilization;
      lastElu = now;
      return share;
    });
  const heap =
    opts.heap ??
    (() => {
      const m = process.memoryUsage();
      return { used: m.heapUsed, committed: m.heapTotal };
    });

  let quiet = 0;
  let collectedThisSpell = false;
  let usedAfterLast = heap().used;
  const timer = setInterval(() => {
    if (busySince() > busyShare) {
      quiet = 0;
      collectedThisSpell = false;
      return;
    }
    quiet += 1;
    if (quiet < quietChecks || collectedThisSpell) return;
    const before = heap();
    if (before.committed - before.used < minGain && before.used - usedAfterLast < minGain) return;
    gc();
    collectedThisSpell = true;
    const after = heap();
    usedAfterLast = after.used;
    // The collection's own time must not count as traffic at the next look.
    busySince();
    opts.onCollected?.(before, after);
  }, checkMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
