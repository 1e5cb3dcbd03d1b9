/**
 * Child processes the bench measures: the product bot (the node process `npm start` runs,
 * `node --import tsx src/index.ts`, started directly so the process we sample is the bot itself,
 * not npm; or the same bot compiled to JavaScript and run by plain node, ./compiled.ts) and the
 * reference echo bot. Each runs in its own process, so its RSS is its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** The environment a child starts with: ours (PATH, HOME) plus the bot's own settings. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resident set size of a process in MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** CPU time (user + system) a process (or one of its threads) has used so far, in ms, from /proc (Linux, 100 ticks/s). */
export function cpuMs(pid: number, thread?: number): number {
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0; // the process is gone
  }
}

/**
 * Bytes a process has had read from storage so far (`read_bytes` of /proc/<pid>/io, Linux): reads the
 * page cache answered do not count, so at a level whose store no longer fits in the cache it shows
 * the disk a turn waits for (issue 19).
 */
export function diskReadBytes(pid: number, thread?: number): number {
  try {
    const io = thread === undefined ? `/proc/${pid}/io` : `/proc/${pid}/task/${thread}/io`;
    return Number(/^read_bytes: (\d+)$/m.exec(readFileSync(io, 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN; // gone, or not readable here
  }
}

/** Polls `url` until it answers 200; resolves with the milliseconds since `since`. */
export async function waitFor200(url: string, since: number, child: ChildProcess, timeoutMs = 60_000): Promise<number> {
  let exited = false;
  let failed: Error | undefined;
  child.once('exit', () => (exited = true));
  // A child that cannot be spawned (a missing --bot-root) emits 'error'; unheard, it would end the bench
  // at once, past its cleanup, and leave the bots already started running.
  child.once('error', (err) => (failed = err));
  for (;;) {
    if (failed) throw new Error(`${url}: the process could not be started: ${failed.message}`);
    if (exited) throw new Error(`${url}: the process exited before it answered 200 (see its log)`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    if (performance.now() - since > timeoutMs) throw new Error(`${url}: no 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Running {
  name: string;
  pid: number;
  url: string;
  startupMs: number;
  rssMiB(): number;
  cpuMs(): number;
  /** The same for the main thread alone (the event loop), without V8's helpers and the worker threads. */
  loopCpuMs(): number;
  diskReadBytes(): number;
  /** The same for the process's main thread alone: the disk reads its event loop waited for. */
  loopDiskReadBytes(): number;
  stop(): Promise<number | null>;
}

async function stopChild(child: ChildProcess, graceMs = 20_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const [code] = (await exited) as [number | null];
  clearTimeout(timer);
  return code;
}

export interface StartOptions {
  name: string;
  /** The checkout to run from (default: this one); lets the bench compare two versions of the bot. */
  root?: string;
  /** Script relative to the repository root. */
  script: string;
  args?: string[];
  env?: Record<string, string>;
  port: number;
  logFile: string;
  nodeFlags?: string[];
  healthPath?: string;
  /** `tsx`: TypeScript through the tsx loader (default); `none`: a JavaScript file run by plain node. */
  loader?: 'tsx' | 'none';
}

/** Starts `node [flags] --import tsx <script>` (or `node [flags] <script>`), its stdout and stderr going to `logFile`. */
export async function startNode(opts: StartOptions): Promise<Running> {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  await once(log, 'open');
  const t0 = performance.now();
  const loader = opts.loader === 'none' ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), ...loader, opts.script, ...(opts.args ?? [])], {
    cwd: opts.root ?? REPO_ROOT,
    env: childEnv(opts.env ?? {}),
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    const startupMs = await waitFor200(`${url}${opts.healthPath ?? '/healthz'}`, t0, child);
    return {
      name: opts.name,
      pid: child.pid!,
      url,
      startupMs,
      rssMiB: () => rssMiB(child.pid!),
      cpuMs: () => cpuMs(child.pid!),
      loopCpuMs: () => cpuMs(child.pid!, child.pid!),
      diskReadBytes: () => diskReadBytes(child.pid!),
      // The main thread's id is the process id.
      loopDiskReadBytes: () => diskReadBytes(child.pid!, child.pid!),
      stop: async () => {
        const code = await stopChild(child);
        log.end();
        return code;
      },
    };
  } catch (err) {
    await stopChild(child, 2000);
    log.end();
    throw err;
  }
}

/**
 * Start-up time of the literal `npm start` in `cwd` (npm, then the bot) to the first 200 from
 * /healthz. Runs in its own process group so the whole tree is stopped afterwards.
 */
export async function timeNpmStart(env: Record<string, string>, port: number, logFile: string, cwd = REPO_ROOT): Promise<number> {
  const log = createWriteStream(logFile, { flags: 'a' });
  await once(log, 'open');
  const t0 = performance.now();
  const child = spawn('npm', ['start', '--silent'], { cwd, env: childEnv(env), stdio: ['ignore', log, log], detached: true });
  try {
    return await waitFor200(`http://127.0.0.1:${port}/healthz`, t0, child);
  } finally {
    const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve();
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 20_000);
    await exited;
    clearTimeout(timer);
    log.end();
  }
}

/**
 * The bot's own Prometheus /metrics, as a function from a metric's name (any prefix: the bot names
 * them pce_bot_…) and optionally its exact labels to its value (NaN when absent); undefined when the
 * page could not be read.
 */
async function botMetrics(baseUrl: string): Promise<((name: string, labels?: string) => number) | undefined> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) return undefined;
    const text = await res.text();
    return (name, labels) => {
      const labelled = labels === undefined ? '(?:\\{[^}]*\\})?' : `\\{${labels}\\}`;
      return Number(new RegExp(`^(?:\\w*_)?${name}${labelled} ([-0-9.e+]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    };
  } catch {
    return undefined;
  }
}

/** The SQLite read-ahead's counts from the bot's /metrics (`pce_bot_sqlite_read_ahead_total{result}`); undefined when it has none. */
export async function readAheadFromMetrics(baseUrl: string): Promise<{ warmed: number; overdue: number; recent: number; waitSeconds: number } | undefined> {
  const value = await botMetrics(baseUrl);
  if (!value) return undefined;
  const result = (r: string) => value('sqlite_read_ahead_total', `result="${r}"`);
  const counts = { warmed: result('warmed'), overdue: result('overdue'), recent: result('recent'), waitSeconds: value('sqlite_read_ahead_wait_seconds_total') };
  return Object.values(counts).some(Number.isNaN) ? undefined : counts;
}

/** Heap figures from the bot's own Prometheus /metrics (prom-client's default Node.js collectors), in MiB. */
export async function heapFromMetrics(baseUrl: string): Promise<{ heapUsedMiB: number; heapTotalMiB: number; externalMiB: number } | undefined> {
  const value = await botMetrics(baseUrl);
  if (!value) return undefined;
  const mib = (name: string) => value(name) / 1048576;
  return { heapUsedMiB: mib('nodejs_heap_size_used_bytes'), heapTotalMiB: mib('nodejs_heap_size_total_bytes'), externalMiB: mib('nodejs_external_memory_bytes') };
}
