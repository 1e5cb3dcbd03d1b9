/**
 * A worker thread with a better-sqlite3 connection of its own to the store's file. better-sqlite3 is
 * synchronous, so what may wait on the disk (a WAL checkpoint's fsync, ./sqlite-checkpointer.ts; a
 * read of pages no longer in memory, ./sqlite-warmer.ts) runs there instead of stopping every turn in
 * flight on the event loop.
 *
 * The job is plain CommonJS (no TypeScript loader in the worker) with `db`, `workerData` and `post`
 * in scope; it may define `onMessage(message)` and `onStop()`. The worker stops on `stop()`, closing
 * its connection first.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const PRELUDE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true, readonly: workerData.readonly });
db.pragma('busy_timeout = 0');
const post = (m) => parentPort.postMessage(m);
let onMessage = () => undefined;
let onStop = () => undefined;
`;

const EPILOGUE = `
let stopped = false;
parentPort.on('message', (m) => {
  if (m !== 'stop') return onMessage(m);
  if (stopped) return;
  stopped = true;
  onStop();
  db.close();
  parentPort.close();
});
`;

export interface SqliteWorkerOptions {
  /** The database file (it must exist). */
  path: string;
  /** The job's source: assigns `onMessage` and/or `onStop`, may start timers. */
  job: string;
  /** Open the connection read-only. */
  readonly?: boolean;
  /** More `workerData` for the job. */
  data?: Record<string, unknown>;
  onMessage(message: unknown): void;
  /** The worker died (its job threw, or it could not open the file); called once. */
  onFailure(err: Error): void;
}

export class SqliteWorker {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(options: SqliteWorkerOptions) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(PRELUDE + options.job + EPILOGUE, {
      eval: true,
      workerData: { ...options.data, path: options.path, module, readonly: options.readonly ?? false },
    });
    // Never what keeps the process alive.
    this.worker.unref();
    this.worker.on('message', (m) => options.onMessage(m));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.once('error', (err) => {
        options.onFailure(err);
        resolve();
      });
    });
  }

  post(message: unknown): void {
    this.worker.postMessage(message);
  }

  /** Resolves when the worker has stopped, however it stopped. */
  get stopped(): Promise<void> {
    return this.exited;
  }

  /** Stops the job and closes its connection (before the store's own connection closes). */
  async stop(timeoutMs = 2_000): Promise<void> {
    this.worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([this.exited.then(() => 'exited' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') await this.worker.terminate();
  }
}
