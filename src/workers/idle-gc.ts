/**
 * A full garbage collection once the bot has gone quiet (issue 19, memory). Under load V8 lets the
 * old generation grow far past what is live (80 MB live against ~290 MB used after 100k
 * conversations, README "Performance") and keeps those pages while the process idles; one
 * collection after the burst gives them back. Only when `gc` is exposed (`node --expose-gc`, as
 * `npm start` runs), the process has used almost no CPU for a while, and the heap grew since the
 * last collection: never during traffic, never twice for the same garbage.
 */
export interface IdleGcOptions {
  /** How often the process is looked at. */
  checkMs?: number;
  /** Quiet means at most this share of one core over `quietChecks` looks in a row. */
  busyShare?: number;
  quietChecks?: number;
  /** Heap growth since the last collection that is worth one. */
  minGrowthBytes?: number;
  /** Defaults: globalThis.gc, process.cpuUsage, process.memoryUsage().heapUsed. */
  gc?: (() => void) | undefined;
  cpuMicros?: () => number;
  heapUsed?: () => number;
  onCollected?: (freedBytes: number) => void;
}

export interface IdleGc {
  stop(): void;
}

export function collectWhenIdle(opts: IdleGcOptions = {}): IdleGc {
  const exposed = (globalThis as { gc?: (options?: object) => void }).gc;
  // 'last-resort': V8 collects until nothing more is freed and compacts with memory reduction, so
  // the heap it had grown also gives its empty pages back (a plain major GC left ~190 MiB committed).
  const gc = 'gc' in opts ? opts.gc : exposed && (() => exposed({ type: 'major', execution: 'sync', flavor: 'last-resort' }));
  if (!gc) return { stop: () => undefined };
  const checkMs = opts.checkMs ?? 5_000;
  const busyShare = opts.busyShare ?? 0.05;
  const quietChecks = opts.quietChecks ?? 2;
  const minGrowth = opts.minGrowthBytes ?? 16 * 1024 * 1024;
  const cpuMicros = opts.cpuMicros ?? (() => {
    const u = process.cpuUsage();
    return u.user + u.system;
  });
  const heapUsed = opts.heapUsed ?? (() => process.memoryUsage().heapUsed);

  let lastCpu = cpuMicros();
  let quiet = 0;
  let afterLast = heapUsed();
  const timer = setInterval(() => {
    const cpu = cpuMicros();
    const share = (cpu - lastCpu) / 1000 / checkMs;
    lastCpu = cpu;
    quiet = share <= busyShare ? quiet + 1 : 0;
    if (quiet < quietChecks) return;
    const before = heapUsed();
    if (before - afterLast < minGrowth) return;
    gc();
    afterLast = heapUsed();
    // The collection's own CPU must not count as traffic for the next look.
    lastCpu = cpuMicros();
    opts.onCollected?.(before - afterLast);
  }, checkMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
