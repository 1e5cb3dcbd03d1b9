/**
 * What one bench run shares between its phases: its id and directories, progress lines, the report
 * being written, the fake connector, the PostgreSQL server watch, and the clean-up of everything it
 * started (children, databases, files), also on Ctrl-C.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { FakeConnector } from './connector';
import type { PgServerCpu } from './pg-cpu';
import { REPO_ROOT } from './processes';
import { quick, settings } from './settings';
import { round } from './stats';

export const RESULTS_DIR = join(REPO_ROOT, 'bench-results');
export const LOG_DIR = join(RESULTS_DIR, 'logs');
export const PROFILE_DIR = join(RESULTS_DIR, 'profiles');
mkdirSync(LOG_DIR, { recursive: true });
if (settings.profile) mkdirSync(PROFILE_DIR, { recursive: true });
mkdirSync(settings.workDir, { recursive: true });

export const runId = Date.now().toString(36);
export const started = Date.now();
/** This run's SQLite files and compiled bot, on the disk of --work-dir. */
export const work = mkdtempSync(join(settings.workDir, `run-${runId}-`));

export const quickRun = () => quick;

export function progress(message: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[bench ${s}s] ${message}\n`);
}

export const report: Record<string, unknown> = {
  startedAt: new Date(started).toISOString(),
  machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, platform: process.platform },
  settings,
  loadAverageAtStart: loadavg().map((v) => round(v, 2)),
};

// --- cleanup: everything started here is stopped here -------------------------------------------
const cleanups: (() => Promise<unknown>)[] = [];
export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}
export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (err) {
      progress(`cleanup: ${(err as Error).message}`);
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping children and removing bench data`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Set once at the start of the run (./../run.ts). */
export const shared: { connector?: FakeConnector; pg?: PgServerCpu; nextConversation: number } = { nextConversation: 1 };

export function connector(): FakeConnector {
  if (!shared.connector) throw new Error('the fake connector is not running');
  return shared.connector;
}
