/**
 * SQLite WAL checkpoints off the event loop. better-sqlite3 is synchronous: with the default
 * `wal_autocheckpoint` (1000 pages) a commit now and then copies the WAL back into the database and
 * fsyncs it on the main thread, stalling every turn in flight (the p99 tail, bench/PROFILING.md).
 * Here a worker thread with a connection of its own (./sqlite-worker.ts) runs
 * `PRAGMA wal_checkpoint(PASSIVE)` on a timer (PASSIVE never waits for readers or writers), and the
 * store raises its own automatic checkpoint to a safety net that only acts if the worker falls behind
 * or dies.
 */
import type { Logger } from '../log';
import { SqliteWorker } from './sqlite-worker';

const JOB = `
const timer = setInterval(() => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    post({ type: 'checkpoint', log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    post({ type: 'error', message: String(err && err.message || err) });
  }
}, workerData.intervalMs);
onStop = () => clearInterval(timer);
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
  private readonly worker: SqliteWorker;

  constructor(path: string, intervalMs: number, logger: Logger) {
    let warned = false;
    this.worker = new SqliteWorker({
      path,
      job: JOB,
      data: { intervalMs },
      onMessage: (message) => {
        const m = message as { type: string; log?: number; checkpointed?: number; message?: string };
        if (m.type === 'checkpoint') {
          this.stats.runs++;
          this.stats.lastLog = m.log ?? 0;
          this.stats.lastCheckpointed = m.checkpointed ?? 0;
        } else if (m.type === 'error' && !warned) {
          warned = true; // once: a locked database retries on the next tick anyway
          logger.warn({ err: { message: m.message } }, 'SQLite background checkpoint failed; will retry');
        }
      },
      onFailure: (err) => logger.warn({ err: { message: err.message } }, 'SQLite checkpoint worker stopped; SQLite checkpoints on commit instead'),
    });
  }

  /** Stops the worker and closes its connection (before the store's own connection closes). */
  stop(timeoutMs = 2_000): Promise<void> {
    return this.worker.stop(timeoutMs);
  }
}
