/**
 * The processes and stores the phases measure: a store of the bench's own (a SQLite file in the run's
 * work directory, or a PostgreSQL database created for the run), the product bot started the way
 * `npm start` starts it (tsx) or compiled (./compiled.ts), and the reference echo bot.
 */
import BetterSqlite3 from 'better-sqlite3';
import { existsSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCompiled, type CompiledBot } from './compiled';
import { LOG_DIR, onCleanup, progress, PROFILE_DIR, report, runId, work } from './context';
import { createBenchDatabase, type BenchDatabase } from './postgres';
import { freePort, REPO_ROOT, startNode, type Running } from './processes';
import type { SeedTarget } from './seed';
import { settings, type StartMode } from './settings';

export type StoreKind = 'sqlite' | 'postgres';
export interface Storage {
  kind: StoreKind;
  databaseUrl: string;
  seed: SeedTarget;
  /** PostgreSQL: the bench database's name (its backends are told apart from other databases'). */
  database?: string;
}

let storageCount = 0;
/** An empty store, or with `copyOf` a copy of that one as it is now (no bot may be running on it). */
export async function newStorage(kind: StoreKind, label: string, copyOf?: Storage): Promise<Storage> {
  storageCount += 1;
  if (kind === 'sqlite') {
    const file = join(work, `${label}-${storageCount}.sqlite`);
    if (!settings.keep) onCleanup(async () => ['', '-wal', '-shm'].forEach((s) => rmSync(`${file}${s}`, { force: true })));
    if (copyOf) {
      const source = new BetterSqlite3(copyOf.seed.location);
      try {
        source.prepare('VACUUM INTO ?').run(file);
      } finally {
        source.close();
      }
    }
    return { kind, databaseUrl: `sqlite:${file}`, seed: { dialect: 'sqlite', location: file } };
  }
  const db: BenchDatabase = await createBenchDatabase(settings.pgUrl, label, copyOf?.database);
  if (!settings.keep) onCleanup(() => db.drop());
  progress(`created PostgreSQL database ${db.name}`);
  return { kind, databaseUrl: db.url, seed: { dialect: 'postgres', location: db.url }, database: db.name };
}

export const botLogFile = (label: string) => join(LOG_DIR, `${label}-${runId}.log`);

/**
 * Live heap after each full GC, from `--trace-gc` lines in the bot's log
 * (`… ms: Mark-Compact 180.2 (210.5) -> 75.3 (200.1) MB, …`): what the process really keeps.
 */
export function liveHeapAfterFullGcs(logFile: string): number[] {
  const text = readFileSync(logFile, 'utf8');
  // Lines start with [pid:isolate]; tsx's loader thread has an isolate of its own, with a tiny heap.
  const byIsolate = new Map<string, number[]>();
  for (const m of text.matchAll(/\[\d+:(0x[0-9a-f]+)\][^\n]*?Mark-Compact[^\n]*?-> ([0-9.]+) \(/g)) {
    byIsolate.set(m[1]!, [...(byIsolate.get(m[1]!) ?? []), Number(m[2])]);
  }
  return [...byIsolate.values()].sort((a, b) => Math.max(...b) - Math.max(...a))[0] ?? [];
}

/** Waits until the bot says its free-text models are trained (older bots do not say: no wait). */
async function modelsTrained(url: string, label: string): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const health = (await (await fetch(`${url}/healthz`)).json()) as { nlu?: string };
    if (health.nlu !== 'training') break;
    if (Date.now() - t0 > 60_000) throw new Error(`${label}: free-text models still training after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (Date.now() - t0 > 100) progress(`${label}: free-text models trained after ${Date.now() - t0} ms more`);
}

/** The bot's environment, as in production (NODE_ENV, LOG_LEVEL), on its own port and store. */
export function botEnv(port: number, databaseUrl: string): Record<string, string> {
  return { NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: settings.logLevel, DATABASE_URL: databaseUrl, ...settings.botEnv };
}

const compiledBots = new Map<string, CompiledBot>();
/** The checkout's bot compiled with tsc into the run's work directory (once per run and checkout). */
export function compiledBot(root = settings.botRoot): CompiledBot {
  let built = compiledBots.get(root);
  if (!built) {
    progress(`compiling the bot of ${root} with tsc for the compiled start`);
    built = buildCompiled(root, join(work, `compiled-${compiledBots.size + 1}`), '--disable-warning=DEP0111');
    compiledBots.set(root, built);
    const { copiedAssets, unresolvedImports, ...rest } = built;
    report.compiled = { ...rest, copiedAssets, unresolvedImports: unresolvedImports.slice(0, 20) };
    progress(`  built with ${built.tsconfig} in ${(built.buildMs / 1000).toFixed(1)} s: ${built.rewrittenImports} relative imports given .js, ${copiedAssets.length} asset files copied, ${built.typeErrors} type errors${unresolvedImports.length ? `, ${unresolvedImports.length} imports unresolved` : ''}`);
  }
  return built;
}

/** The node flags of the checkout's `npm start` (`node <flags> scripts/start.mjs`). */
function startScriptFlags(root: string): string[] {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  const words = start.trim().split(/\s+/);
  const script = words.indexOf('scripts/start.mjs');
  return words[0] === 'node' && script > 0 ? words.slice(1, script) : [];
}

let botCount = 0;
export async function startBot(storage: Storage, label: string, opts: { root?: string; extraFlags?: string[]; mode?: StartMode } = {}): Promise<Running> {
  botCount += 1;
  const port = await freePort();
  const root = opts.root ?? settings.botRoot;
  // One directory per bot process: the main thread and tsx's loader thread each write a profile.
  const profileDir = join(PROFILE_DIR, `${runId}-${label}-${botCount}`);
  const nodeFlags = [...(settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...settings.nodeFlags, ...(opts.extraFlags ?? [])];
  // As `npm start` runs it where the checkout has scripts/start.mjs (the bundle); an older checkout
  // (--compare-root) runs through the tsx loader, as its own `npm start` did.
  const mode = opts.mode ?? (existsSync(join(root, 'scripts', 'start.mjs')) ? 'bundle' : 'tsx');
  const compiled = mode === 'compiled' ? compiledBot(root) : undefined;
  // The node flags `npm start` gives the bundle (e.g. --expose-gc for the idle collection), as production runs it.
  if (mode === 'bundle') nodeFlags.push(...startScriptFlags(root));
  const bot = await startNode({
    name: label,
    root,
    script: compiled ? compiled.script : mode === 'bundle' ? 'scripts/start.mjs' : 'src/index.ts',
    loader: mode === 'tsx' ? 'tsx' : 'none',
    port,
    logFile: botLogFile(label),
    nodeFlags,
    env: botEnv(port, storage.databaseUrl),
  });
  onCleanup(() => bot.stop());
  progress(`${label}: bot up on ${bot.url} in ${bot.startupMs.toFixed(0)} ms (pid ${bot.pid}, ${mode})`);
  await modelsTrained(bot.url, label);
  return bot;
}

export async function stopBot(bot: Running): Promise<void> {
  const code = await bot.stop();
  if (code !== 0 && code !== null) progress(`${bot.name}: exited with code ${code}`);
}

/** The echo bot; with `sqlite`, the durable echo (a read and a write transaction per turn in that file). */
export async function startReference(opts: { sqlite?: Storage } = {}): Promise<Running> {
  const port = await freePort();
  const name = opts.sqlite ? 'reference-durable' : 'reference';
  const ref = await startNode({
    name,
    root: REPO_ROOT,
    script: 'bench/reference-bot.ts',
    args: ['--port', String(port), ...(opts.sqlite ? ['--sqlite', opts.sqlite.seed.location] : [])],
    port,
    logFile: join(LOG_DIR, `${name}-${runId}.log`),
  });
  onCleanup(() => ref.stop());
  progress(`${opts.sqlite ? 'durable echo bot (SQLite)' : 'reference echo bot'} up on ${ref.url} (pid ${ref.pid})`);
  return ref;
}
