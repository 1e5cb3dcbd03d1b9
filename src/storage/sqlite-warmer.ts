/**
 * Reads a conversation's pages on worker threads before the turn reads them on the event loop.
 *
 * better-sqlite3 reads synchronously: when a conversation's pages are no longer in memory (a person
 * back after hours, a store larger than the host's page cache, a VM that pages idle file cache out),
 * each of them is a disk read that stops every turn in flight, not only the one that needs it
 * (bench/PROFILING.md, issue 19). A turn of a conversation the engine does not hold live first asks
 * a reader, a worker thread with a read-only connection of its own (./sqlite-worker.ts), to run the
 * same lookups: the pages then come from the OS cache when the turn loads and commits. Only the
 * reader waits on the disk; the event loop goes on with other turns meanwhile.
 *
 * Two readers, each warm-up to the one with the fewest in hand: a reader waits on one page at a
 * time, so one warm-up stalled on the disk would otherwise hold up every warm-up behind it.
 *
 * The statements take named parameters `@key` (the conversation) and `@user` (the user's key); a
 * statement that fails to prepare or run is skipped. A warm-up never fails a turn, nor holds it
 * long: with the readers gone `warm` resolves at once, and a warm-up not answered within
 * `maxWaitMs` (a disk that stalls, a lookup that turned into a scan) lets its turn read for itself;
 * a reader skips warm-ups whose turn has stopped waiting, so a backlog cannot grow on itself.
 *
 * A conversation this process read within the last minute is not read ahead: its pages are in
 * memory (the VM's reclaim pages out file cache idle for about a minute, bench/PROFILING.md), and a
 * hand-off to a reader costs ~70 µs of CPU even when it finds everything cached.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from '../log';
import { SqliteWorker } from './sqlite-worker';

const JOB = `
// Its own page cache small: what matters is that the pages reach the OS cache, which every connection shares.
db.pragma('cache_size = -4000');
let statements = [];
onMessage = (m) => {
  if (m.type === 'statements') {
    statements = [];
    for (const sql of m.sql) {
      try { statements.push(db.prepare(sql).raw(true)); } catch (err) { post({ type: 'error', message: String(err && err.message || err) }); }
    }
    post({ type: 'ready' });
    return;
  }
  // One read transaction per batch: one look at the WAL, not one per statement.
  const answers = [];
  try { db.exec('begin'); } catch { /* each lookup then reads on its own */ }
  try {
    for (const w of m.batch) {
      // Its turn stopped waiting: reading now would only compete with the turn's own reads.
      if (Date.now() > w.deadline) { answers.push(w.id, -1); continue; }
      let found = 0;
      for (const s of statements) {
        try {
          const row = s.get(w.params);
          if (row && row[0]) found++;
        } catch { /* the turn reads for itself */ }
      }
      answers.push(w.id, found);
    }
  } finally {
    if (db.inTransaction) db.exec('commit');
  }
  post({ type: 'warmed', answers });
};
`;

export interface WarmStats {
  /** Warm-ups asked for, and those a reader ran (not those it skipped: their turn had stopped waiting). */
  asked: number;
  warmed: number;
  /** Lookups that found something (a first column neither null, zero nor empty), over all warm-ups. */
  found: number;
  /** Warm-ups whose turn stopped waiting after `maxWaitMs`. */
  overdue: number;
  /** Not asked: the conversation was read by this process within `recentMs`. */
  recent: number;
  /** Milliseconds turns spent waiting for their warm-ups, in all. */
  waitedMs: number;
}

export interface WarmParams {
  key: string;
  user: string;
}

export interface WarmerOptions {
  /** Reader threads (default 2: each costs ~7 MB of RSS; four measured no better than one at the bench's load). */
  readers?: number;
  /** How long a turn waits for its warm-up at most. */
  maxWaitMs?: number;
  /** How long after a conversation was read its pages count as in memory (0: always read ahead). */
  recentMs?: number;
  /** How many recently read conversations are remembered (the oldest are forgotten first). */
  recentMax?: number;
  /** Milliseconds for `recentMs` (default `performance.now`; tests pass their own). */
  now?: () => number;
}

interface Reader {
  worker: SqliteWorker;
  alive: boolean;
  /** Resolved once it has prepared its statements, or stopped. */
  ready: Promise<void>;
  /** Warm-ups sent and not yet answered. */
  inHand: number;
}

interface Queued {
  id: number;
  params: WarmParams;
  deadline: number;
}

export class SqliteWarmer {
  readonly stats: WarmStats = { asked: 0, warmed: 0, found: 0, overdue: 0, recent: 0, waitedMs: 0 };
  /** Conversations read lately, by key; at most `recentMax`, each for `recentMs`. */
  private readonly recent?: LRUCache<string, true>;
  private readonly readers: Reader[] = [];
  /** Turns waiting, in the order they asked (a Map keeps it): the resolve, when they asked, and their reader. */
  private readonly waiting = new Map<number, { resolve: () => void; since: number; reader?: Reader }>();
  private readonly overdueTimer: NodeJS.Timeout;
  private readonly maxWaitMs: number;
  private queued: Queued[] = [];
  private nextId = 1;

  constructor(path: string, statements: readonly string[], logger: Logger, opts: WarmerOptions = {}) {
    this.maxWaitMs = opts.maxWaitMs ?? 100;
    const recentMs = opts.recentMs ?? 60_000;
    if (recentMs > 0) {
      this.recent = new LRUCache({ max: opts.recentMax ?? 20_000, ttl: recentMs, ...(opts.now ? { ttlResolution: 0, perf: { now: opts.now } } : {}) });
    }
    let warned = false;
    let failed = false;
    for (let n = 0; n < Math.max(1, opts.readers ?? 2); n++) {
      let prepared!: () => void;
      const ready = new Promise<void>((resolve) => (prepared = resolve));
      const worker = new SqliteWorker({
        path,
        job: JOB,
        readonly: true,
        onMessage: (message) => {
          const m = message as { type: string; answers?: number[]; message?: string };
          if (m.type === 'warmed') {
            // [id, found, id, found, …]; found -1: skipped, its turn had stopped waiting.
            const answers = m.answers ?? [];
            for (let i = 0; i + 1 < answers.length; i += 2) {
              reader.inHand--;
              if (answers[i + 1]! >= 0) {
                this.stats.warmed++;
                this.stats.found += answers[i + 1]!;
              }
              this.release(answers[i]!);
            }
          } else if (m.type === 'ready') {
            prepared();
          } else if (m.type === 'error' && !warned) {
            warned = true;
            logger.warn({ err: { message: m.message } }, 'SQLite read-ahead: a statement could not be prepared; it is skipped');
          }
        },
        onFailure: (err) => {
          if (failed) return;
          failed = true;
          logger.warn({ err: { message: err.message } }, 'SQLite read-ahead worker stopped; turns read the store themselves');
        },
      });
      const reader: Reader = { worker, alive: true, inHand: 0, ready };
      // However a reader ends, no turn waits for it.
      void worker.stopped.then(() => {
        reader.alive = false;
        prepared();
        for (const [id, w] of this.waiting) if (w.reader === reader) this.release(id);
        if (!this.alive) clearInterval(this.overdueTimer);
      });
      this.readers.push(reader);
    }
    // One timer for all waits, not one per turn: the oldest come first, so it stops at the first in time.
    this.overdueTimer = setInterval(() => {
      const cutoff = performance.now() - this.maxWaitMs;
      for (const [id, w] of this.waiting) {
        if (w.since > cutoff) break;
        this.stats.overdue++;
        this.release(id);
      }
    }, Math.max(10, this.maxWaitMs / 2));
    this.overdueTimer.unref();
    this.setStatements(statements);
  }

  /**
   * Resolves once every reader has started and prepared its lookups (or stopped). Turns need not
   * wait for it (a warm-up asked before then waits at most `maxWaitMs`); tests that count do.
   */
  ready(): Promise<void> {
    return Promise.all(this.readers.map((r) => r.ready)).then(() => undefined);
  }

  /** Whether any reader is still running. */
  private get alive(): boolean {
    return this.readers.some((r) => r.alive);
  }

  /** Replaces the lookups run for each warm-up (a feature registered its writer). */
  setStatements(statements: readonly string[]): void {
    for (const r of this.readers) if (r.alive) r.worker.post({ type: 'statements', sql: [...statements] });
  }

  /** A conversation read without a warm-up (the engine held it live): its pages are in memory now. */
  read(key: string): void {
    this.recent?.set(key, true);
  }

  /**
   * Resolves once a reader has run the lookups for this conversation (at once if none is running,
   * or if the conversation was read lately).
   */
  warm(params: WarmParams): Promise<void> {
    if (!this.alive) return Promise.resolve();
    if (this.recent) {
      if (this.recent.has(params.key)) {
        this.stats.recent++;
        return Promise.resolve();
      }
      this.recent.set(params.key, true);
    }
    this.stats.asked++;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, since: performance.now() });
      // The warm-ups asked for in one pass of the event loop go out together, one message per
      // reader: a message each way costs more than the lookups (a thread woken twice), ~70 µs here.
      this.queued.push({ id, params, deadline: Date.now() + this.maxWaitMs });
      if (this.queued.length === 1) setImmediate(this.flush);
    });
  }

  private readonly flush = (): void => {
    const queued = this.queued;
    this.queued = [];
    const batches = new Map<Reader, Queued[]>();
    for (const q of queued) {
      const w = this.waiting.get(q.id);
      if (!w) continue;
      // The reader with the fewest warm-ups in hand (the first of equals: fewer threads woken when quiet).
      let best: Reader | undefined;
      for (const r of this.readers) if (r.alive && (!best || r.inHand < best.inHand)) best = r;
      if (!best) {
        this.release(q.id);
        continue;
      }
      best.inHand++;
      w.reader = best;
      const batch = batches.get(best);
      if (batch) batch.push(q);
      else batches.set(best, [q]);
    }
    for (const [reader, batch] of batches) reader.worker.post({ type: 'warm', batch });
  };

  async stop(): Promise<void> {
    clearInterval(this.overdueTimer);
    await Promise.all(this.readers.map((r) => r.worker.stop()));
  }

  private release(id: number): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    this.stats.waitedMs += performance.now() - w.since;
    w.resolve();
  }
}
