/**
 * SQLite WAL checkpoints off the event loop. better-sqlite3 is synchronous: with the default
 * `wal_autocheckpoint` (1000 pages) a commit now and then copies the WAL back into the database and
 * fsyncs it on the main thread, stalling every turn in flight (the p99 tail, bench/PROFILING.md).
 * Here a worker thread with a connection of its own runs `PRAGMA wal_checkpoint(PASSIVE)` on a
 * timer (PASSIVE never waits for readers or writers), and the store raises its own automatic
 * checkpoint to a safety net that only acts if the worker falls behind or dies.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log';

/** Plain CommonJS run by the worker (no TypeScript loader needed in the worker). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
let stopped = false;
const timer = setInterval(() => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ type: 'checkpoint', log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: String(err && err.message || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop' || stopped) return;
  stopped = true;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface CheckpointStats {
  /** Checkpoints run by the worker. */
  runs: number;
  /** WAL frames in the log at the last checkpoint, and how many of them were copied back. */
  lastLog: number;
  lastCheckpointed: number;
}

export class SqliteCheckpointer {
  readonly stats: CheckpointStats = { runs: 0, lastLog: 0, lastCheckpointed: 0 };
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(path: string, intervalMs: number, logger: Logger) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, module } });
    this.worker.unref();
    let warned = false;
    this.worker.on('message', (m: { type: string; log?: number; checkpointed?: number; message?: string }) => {
      if (m.type === 'checkpoint') {
        this.stats.runs++;
        this.stats.lastLog = m.log ?? 0;
        this.stats.lastCheckpointed = m.checkpointed ?? 0;
      } else if (m.type === 'error' && !warned) {
        warned = true; // once: a locked database retries on the next tick anyway
        logger.warn({ err: { message: m.message } }, 'SQLite background checkpoint failed; will retry');
      }
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.once('error', (err) => {
        logger.warn({ err: { message: err.message } }, 'SQLite checkpoint worker stopped; SQLite checkpoints on commit instead');
        resolve();
      });
    });
  }

  /** Stops the worker and closes its connection (before the store's own connection closes). */
  async stop(timeoutMs = 2_000): Promise<void> {
    this.worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([this.exited.then(() => 'exited' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') await this.worker.terminate();
  }
}
