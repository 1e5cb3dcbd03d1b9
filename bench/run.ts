/**
 * `npm run bench`: what a turn of the product bot costs, against a bare botbuilder echo bot measured
 * in the same run on the same machine. A script, never a test: it prints a table and writes JSON to
 * bench-results/. See README.md "Performance" and `npm run bench -- --help`.
 *
 * Phases (all by default; `--phases` picks some):
 *   throughput  N concurrent conversations (default 50) against the reference, the bot on SQLite and
 *               the bot on PostgreSQL, alternating for several rounds; medians of the rounds.
 *   scale       the bot (SQLite unless --scale-store postgres) with 1k / 100k / 1M stored conversations.
 *   memory      the bot's RSS idle, then after 100k conversations served.
 *   startup     `npm start` (and the bot process alone) to the first 200 from /healthz.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeConnector, type FakeConnector } from './lib/connector';
import { runLoad, type LoadResult } from './lib/load';
import { createBenchDatabase, type BenchDatabase } from './lib/postgres';
import { cpuMs, freePort, heapFromMetrics, REPO_ROOT, startNode, timeNpmStart, type Running } from './lib/processes';
import { replicateConversations, storedBytes, type SeedTarget } from './lib/seed';
import { median, round } from './lib/stats';
import type { ConversationOptions } from './lib/walker';
import { createTranslator } from '../src/i18n';
import { loadCorpora } from '../src/nlu/corpus';
import { measureCost } from '../src/nlu/evaluate';
import { Recogniser } from '../src/nlu/recogniser';

const HELP = `npm run bench -- [options]
  --quick                  short run (1 round of 3 s, scale 1k/10k, memory 5k conversations)
  --phases LIST            throughput,nlu,scale,memory,startup (default: all)
  --connections N          concurrent conversations (default 50)
  --rounds N               alternating rounds per target (default 3)
  --seconds S              measured seconds per target and round (default 10)
  --warmup S               warm-up seconds per target before measuring (default 3)
  --stores LIST            storage variants of the throughput phase: sqlite,postgres (default both)
  --scale LIST             stored-conversation levels (default 1000,100000,1000000)
  --scale-store NAME       sqlite | postgres (default sqlite)
  --memory-conversations N conversations served before the second RSS reading (default 100000)
  --memory-turns N         turns per conversation in the memory phase (default 2)
  --max-turns N            a conversation is left after this many turns (default 15)
  --pg-url URL             PostgreSQL server for the bench's own database (default postgres://postgres@127.0.0.1:5432/test)
  --log-level LEVEL        LOG_LEVEL of the bot (default info, as in production)
  --profile                run the bot with node --cpu-prof; profiles go to bench-results/profiles/
  --seed N                 seed of the random walk (default 42)
  --keep                   keep the temporary SQLite files and PostgreSQL databases
  --bot-root DIR           run the bot from another checkout (a git worktree), e.g. to compare before/after a fix
  --node-flags="FLAGS"     extra node flags for every bot process, e.g. --node-flags=--max-old-space-size=160
  --compare-root DIR       throughput phase: also run a SQLite bot from DIR in the same alternating rounds`;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    phases: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    stores: { type: 'string' },
    scale: { type: 'string' },
    'scale-store': { type: 'string' },
    'memory-conversations': { type: 'string' },
    'memory-turns': { type: 'string' },
    'max-turns': { type: 'string' },
    'pg-url': { type: 'string' },
    'log-level': { type: 'string' },
    profile: { type: 'boolean', default: false },
    seed: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'bot-root': { type: 'string' },
    'compare-root': { type: 'string' },
    'node-flags': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const quick = args.quick;
const num = (v: string | undefined, dflt: number) => (v === undefined ? dflt : Number(v));
const list = (v: string | undefined, dflt: string) => (v ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);
const settings = {
  phases: list(args.phases, 'throughput,nlu,scale,memory,startup'),
  connections: num(args.connections, 50),
  rounds: num(args.rounds, quick ? 1 : 3),
  seconds: num(args.seconds, quick ? 3 : 10),
  warmup: num(args.warmup, quick ? 1 : 3),
  stores: list(args.stores, 'sqlite,postgres') as ('sqlite' | 'postgres')[],
  scale: list(args.scale, quick ? '1000,10000' : '1000,100000,1000000').map(Number),
  scaleStore: (args['scale-store'] ?? 'sqlite') as 'sqlite' | 'postgres',
  memoryConversations: num(args['memory-conversations'], quick ? 5000 : 100_000),
  memoryTurns: num(args['memory-turns'], 2),
  maxTurns: num(args['max-turns'], 15),
  pgUrl: args['pg-url'] ?? 'postgres://postgres@127.0.0.1:5432/test',
  logLevel: args['log-level'] ?? 'info',
  profile: args.profile,
  seed: num(args.seed, 42),
  keep: args.keep,
  botRoot: args['bot-root'] ?? REPO_ROOT,
  nodeFlags: list(args['node-flags']?.replace(/\s+/g, ','), ''),
  compareRoot: args['compare-root'],
  quick,
};
for (const [k, v] of Object.entries(settings)) {
  if (typeof v === 'number' && !(Number.isFinite(v) && v > 0)) throw new Error(`--${k} must be a positive number`);
}

const RESULTS_DIR = join(REPO_ROOT, 'bench-results');
const LOG_DIR = join(RESULTS_DIR, 'logs');
const PROFILE_DIR = join(RESULTS_DIR, 'profiles');
mkdirSync(LOG_DIR, { recursive: true });
if (settings.profile) mkdirSync(PROFILE_DIR, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'pce-bench-'));
const runId = Date.now().toString(36);
const started = Date.now();

function progress(message: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[bench ${s}s] ${message}\n`);
}

// --- cleanup: everything started here is stopped here -------------------------------------------
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanup(): Promise<void> {
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

// --- targets ----------------------------------------------------------------------------------------
type StoreKind = 'sqlite' | 'postgres';
interface Storage {
  kind: StoreKind;
  databaseUrl: string;
  seed: SeedTarget;
  /** PostgreSQL: the server processes serving this database. */
  backendPids?: () => Promise<number[]>;
}

let storageCount = 0;
async function newStorage(kind: StoreKind, label: string): Promise<Storage> {
  storageCount += 1;
  if (kind === 'sqlite') {
    const file = join(work, `${label}-${storageCount}.sqlite`);
    return { kind, databaseUrl: `sqlite:${file}`, seed: { dialect: 'sqlite', location: file } };
  }
  const db: BenchDatabase = await createBenchDatabase(settings.pgUrl, label);
  if (!settings.keep) cleanups.push(() => db.drop());
  progress(`created PostgreSQL database ${db.name}`);
  return { kind, databaseUrl: db.url, seed: { dialect: 'postgres', location: db.url }, backendPids: () => db.backendPids() };
}

let botCount = 0;
const botLogFile = (label: string) => join(LOG_DIR, `${label}-${runId}.log`);

/**
 * Live heap after each full GC, from `--trace-gc` lines in the bot's log
 * (`… ms: Mark-Compact 180.2 (210.5) -> 75.3 (200.1) MB, …`): what the process really keeps.
 */
function liveHeapAfterFullGcs(logFile: string): number[] {
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

async function startBot(storage: Storage, label: string, root = settings.botRoot, extraFlags: string[] = []): Promise<Running> {
  botCount += 1;
  const port = await freePort();
  // One directory per bot process: the main thread and tsx's loader thread each write a profile.
  const profileDir = join(PROFILE_DIR, `${runId}-${label}-${botCount}`);
  const nodeFlags = [...(settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...settings.nodeFlags, ...extraFlags];
  const bot = await startNode({
    name: label,
    root,
    script: 'src/index.ts',
    port,
    logFile: botLogFile(label),
    nodeFlags,
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: settings.logLevel,
      DATABASE_URL: storage.databaseUrl,
    },
  });
  cleanups.push(() => bot.stop());
  progress(`${label}: bot up on ${bot.url} in ${bot.startupMs.toFixed(0)} ms (pid ${bot.pid})`);
  await modelsTrained(bot.url, label);
  return bot;
}

async function stopBot(bot: Running): Promise<void> {
  const code = await bot.stop();
  if (code !== 0 && code !== null) progress(`${bot.name}: exited with code ${code}`);
}

async function startReference(): Promise<Running> {
  const port = await freePort();
  const ref = await startNode({
    name: 'reference',
    script: 'bench/reference-bot.ts',
    args: ['--port', String(port)],
    port,
    logFile: join(LOG_DIR, `reference-${runId}.log`),
  });
  cleanups.push(() => ref.stop());
  progress(`reference echo bot up on ${ref.url} (pid ${ref.pid})`);
  return ref;
}

let connector: FakeConnector;
let nextConversation = 1;
const conversationOptions = (overrides: Partial<ConversationOptions> = {}): ConversationOptions => ({
  runId,
  channelId: 'msteams',
  serviceUrl: connector.url,
  maxTurns: settings.maxTurns,
  opener: 'conversationUpdate',
  ...overrides,
});

interface Measured extends LoadResult {
  /** CPU time of the bot process per turn (ms): what a turn costs, and less noisy than turns/s on a shared machine. */
  cpuMsPerTurn: number;
  /** PostgreSQL server CPU per turn (ms), for the PostgreSQL store. */
  dbCpuMsPerTurn?: number;
  /** CPU time of the bench process itself (autocannon and the walker) per turn (ms). */
  clientCpuMsPerTurn: number;
  /** 1-minute load average when the round started (other work on the machine shows here). */
  loadAverage: number;
}

async function load(
  target: Running,
  what: { seconds?: number; conversations?: number; reference?: boolean; maxTurns?: number; storage?: Storage },
): Promise<Measured> {
  const before = connector.calls();
  const loadAverage = loadavg()[0]!;
  const cpuBefore = target.cpuMs();
  const clientBefore = process.cpuUsage();
  const dbPids = (await what.storage?.backendPids?.()) ?? [];
  const dbBefore = new Map(dbPids.map((pid) => [pid, cpuMs(pid)]));
  const result = await runLoad({
    url: target.url,
    connections: settings.connections,
    ...(what.conversations ? { conversations: what.conversations } : { seconds: what.seconds ?? settings.seconds }),
    conversation: conversationOptions({
      ...(what.reference ? { opener: 'message' as const, keepTalking: true, maxTurns: 6 } : {}),
      ...(what.maxTurns ? { maxTurns: what.maxTurns } : {}),
    }),
    firstConversation: nextConversation,
    seed: settings.seed + nextConversation,
    onProgress: what.conversations
      ? (p) => {
          if (p.turns % 20_000 === 0) progress(`  ${target.name}: ${p.finished} conversations, ${p.turns} turns`);
        }
      : undefined,
  });
  nextConversation = result.nextConversation;
  const cpuMsPerTurn = (target.cpuMs() - cpuBefore) / Math.max(1, result.turns);
  const client = process.cpuUsage(clientBefore);
  const clientCpuMsPerTurn = (client.user + client.system) / 1000 / Math.max(1, result.turns);
  let dbCpuMsPerTurn: number | undefined;
  if (what.storage?.backendPids) {
    const pids = await what.storage.backendPids();
    dbCpuMsPerTurn = pids.reduce((sum, pid) => sum + cpuMs(pid) - (dbBefore.get(pid) ?? 0), 0) / Math.max(1, result.turns);
  }
  const outbound = connector.calls() - before;
  if (result.non2xx || result.errors || result.emptyReplies) {
    progress(`  ${target.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.emptyReplies} empty replies; first: ${result.firstErrors.join(' | ')}`);
  }
  if (outbound) progress(`  ${target.name}: ${outbound} outbound connector calls during expectReplies turns`);
  return { ...result, cpuMsPerTurn, clientCpuMsPerTurn, ...(dbCpuMsPerTurn !== undefined ? { dbCpuMsPerTurn } : {}), loadAverage };
}

interface Summary {
  turnsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  cpuMsPerTurn: number;
  dbCpuMsPerTurn?: number;
  clientCpuMsPerTurn: number;
  rounds: { turnsPerSecond: number; p50: number; p95: number; p99: number; turns: number; errors: number; cpuMsPerTurn: number; loadAverage: number }[];
}

function summarise(results: Measured[]): Summary {
  const db = results.map((r) => r.dbCpuMsPerTurn).filter((v): v is number => v !== undefined);
  return {
    turnsPerSecond: round(median(results.map((r) => r.turnsPerSecond))),
    p50: round(median(results.map((r) => r.latencyMs.p50)), 2),
    p95: round(median(results.map((r) => r.latencyMs.p95)), 2),
    p99: round(median(results.map((r) => r.latencyMs.p99)), 2),
    cpuMsPerTurn: round(median(results.map((r) => r.cpuMsPerTurn)), 3),
    clientCpuMsPerTurn: round(median(results.map((r) => r.clientCpuMsPerTurn)), 3),
    ...(db.length ? { dbCpuMsPerTurn: round(median(db), 3) } : {}),
    rounds: results.map((r) => ({
      cpuMsPerTurn: round(r.cpuMsPerTurn, 3),
      loadAverage: round(r.loadAverage, 2),
      turnsPerSecond: round(r.turnsPerSecond),
      p50: round(r.latencyMs.p50, 2),
      p95: round(r.latencyMs.p95, 2),
      p99: round(r.latencyMs.p99, 2),
      turns: r.turns,
      errors: r.non2xx + r.errors + r.emptyReplies,
    })),
  };
}

// --- phases -----------------------------------------------------------------------------------------
const report: Record<string, unknown> = {
  startedAt: new Date(started).toISOString(),
  machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, platform: process.platform },
  settings,
  loadAverageAtStart: loadavg().map((v) => round(v, 2)),
};
if (loadavg()[0]! > 0.5 * cpus().length) {
  progress(`note: the machine is busy (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs); turns/s will be low, CPU ms/turn stays comparable`);
}

async function throughputPhase(): Promise<void> {
  progress(`throughput: ${settings.connections} concurrent conversations, ${settings.rounds} round(s) × ${settings.seconds} s per target`);
  const reference = await startReference();
  const bots: { label: string; bot: Running; storage?: Storage }[] = [];
  for (const kind of settings.stores) {
    const storage = await newStorage(kind, `throughput-${kind}`);
    bots.push({ label: `bot-${kind}`, bot: await startBot(storage, `bot-${kind}`), storage });
  }
  if (settings.compareRoot) {
    const storage = await newStorage('sqlite', 'throughput-compare');
    bots.push({ label: 'bot-sqlite@compare', bot: await startBot(storage, 'bot-sqlite-compare', settings.compareRoot), storage });
  }
  const targets: { label: string; bot: Running; storage?: Storage }[] = [{ label: 'reference', bot: reference }, ...bots];
  const results = new Map<string, Measured[]>(targets.map((t) => [t.label, []]));
  const paths = new Map<string, { distinct: number; examples: string[]; endings: Record<string, number> }>();

  for (const t of targets) {
    progress(`  warm-up ${t.label} (${settings.warmup} s)`);
    await load(t.bot, { seconds: settings.warmup, reference: t.label === 'reference', storage: t.storage });
  }
  for (let r = 0; r < settings.rounds; r++) {
    // Rotate the order so no target always runs first (or right after the heaviest one).
    const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
    for (const t of order) {
      const res = await load(t.bot, { seconds: settings.seconds, reference: t.label === 'reference', storage: t.storage });
      results.get(t.label)!.push(res);
      if (t.label !== 'reference') paths.set(t.label, { distinct: res.distinctPaths, examples: res.examplePaths, endings: res.endings });
      progress(
        `  round ${r + 1}/${settings.rounds} ${t.label.padEnd(12)} ${res.turnsPerSecond.toFixed(0).padStart(6)} turns/s  p50 ${res.latencyMs.p50.toFixed(1)}  p95 ${res.latencyMs.p95.toFixed(1)}  p99 ${res.latencyMs.p99.toFixed(1)} ms  cpu ${res.cpuMsPerTurn.toFixed(2)}${res.dbCpuMsPerTurn !== undefined ? ` + db ${res.dbCpuMsPerTurn.toFixed(2)}` : ''} ms/turn  load ${res.loadAverage.toFixed(1)}  (${res.turns} turns, ${res.conversationsFinished} conversations)`,
      );
    }
  }
  const ref = summarise(results.get('reference')!);
  const rows: Record<string, unknown>[] = [{ target: 'reference (botbuilder echo)', ...ref, ratio: 1 }];
  for (const b of bots) {
    const s = summarise(results.get(b.label)!);
    // Paired per round: each bot round against the reference round run next to it.
    const ratios = results.get(b.label)!.map((res, i) => res.turnsPerSecond / results.get('reference')![i]!.turnsPerSecond);
    // CPU per turn: the reference's cost over the bot's (process CPU; for PostgreSQL also the server's).
    const cpuRatio = ref.cpuMsPerTurn / (s.cpuMsPerTurn + (s.dbCpuMsPerTurn ?? 0));
    rows.push({ target: b.label, ...s, ratio: round(median(ratios), 2), cpuRatio: round(cpuRatio, 2), paths: paths.get(b.label) });
  }
  report.throughput = { connections: settings.connections, rounds: settings.rounds, secondsPerRound: settings.seconds, rows };
  for (const b of bots) await stopBot(b.bot);
  await reference.stop();
}

async function scalePhase(): Promise<void> {
  const storage = await newStorage(settings.scaleStore, `scale-${settings.scaleStore}`);
  const prefix = `bench-${runId}-`;
  const levels = [...settings.scale].sort((a, b) => a - b);
  const rows: Record<string, unknown>[] = [];
  let copies = 0;
  let previous: { bytes: number; conversations: number } | undefined;
  for (const [i, level] of levels.entries()) {
    if (i === 0) {
      // The templates: real conversations served by the bot, each walked to an outcome.
      const bot = await startBot(storage, `scale-${settings.scaleStore}`);
      progress(`scale: serving ${level} conversations (the templates)`);
      await load(bot, { conversations: level });
      await stopBot(bot);
    } else {
      progress(`scale: copying stored conversations up to ${level}`);
      const seeded = await replicateConversations(storage.seed, prefix, level, copies, (p) => progress(`  ${p.conversations} stored`));
      copies = seeded.copiesMade;
      progress(`  ${seeded.conversations} stored in ${seeded.seconds.toFixed(0)} s`);
      if (seeded.skippedTables.length) progress(`  not copied (not store tables): ${seeded.skippedTables.join(', ')}`);
    }
    const size = await storedBytes(storage.seed);
    const bot = await startBot(storage, `scale-${settings.scaleStore}`);
    await load(bot, { seconds: settings.warmup, storage });
    const results: Measured[] = [];
    for (let r = 0; r < settings.rounds; r++) {
      const res = await load(bot, { seconds: settings.seconds, storage });
      results.push(res);
      progress(`  ${size.conversations} stored, round ${r + 1}: ${res.turnsPerSecond.toFixed(0)} turns/s  p99 ${res.latencyMs.p99.toFixed(1)} ms`);
    }
    await stopBot(bot);
    const marginal = previous && size.conversations > previous.conversations ? (size.bytes - previous.bytes) / (size.conversations - previous.conversations) : size.bytes / size.conversations;
    rows.push({
      level,
      storedAtStart: size.conversations,
      storeBytes: size.bytes,
      bytesPerConversation: Math.round(marginal),
      // Where a stored conversation's bytes go (tables with their indexes), per conversation.
      bytesPerConversationByTable: Object.fromEntries(Object.entries(size.byTable).map(([t, b]) => [t, Math.round(b / Math.max(1, size.conversations))])),
      ...summarise(results),
    });
    previous = size;
  }
  const first = rows[0] as { turnsPerSecond: number } | undefined;
  for (const row of rows) (row as Record<string, unknown>).relativeToFirst = first ? round((row as { turnsPerSecond: number }).turnsPerSecond / first.turnsPerSecond, 3) : undefined;
  report.scale = { store: settings.scaleStore, rows };
}

async function memoryPhase(): Promise<void> {
  const storage = await newStorage('sqlite', 'memory');
  // --trace-gc: the log then shows the live heap after every full GC (no GC can be forced from outside).
  const bot = await startBot(storage, 'memory-sqlite', settings.botRoot, ['--trace-gc']);
  await new Promise((r) => setTimeout(r, 2000));
  const idleCold = bot.rssMiB();
  const heapCold = await heapFromMetrics(bot.url);
  progress(`memory: RSS idle after start ${idleCold.toFixed(1)} MiB; warming up with 1000 conversations`);
  await load(bot, { conversations: 1000, maxTurns: settings.memoryTurns });
  await new Promise((r) => setTimeout(r, 3000));
  const idleWarm = bot.rssMiB();
  const heapWarm = await heapFromMetrics(bot.url);
  progress(`memory: RSS idle after warm-up ${idleWarm.toFixed(1)} MiB; serving ${settings.memoryConversations} conversations`);
  const samples: { conversations: number; rssMiB: number; heapUsedMiB?: number; heapTotalMiB?: number }[] = [];
  const chunk = Math.max(1000, Math.round(settings.memoryConversations / 10));
  let served = 0;
  let peak = idleWarm;
  while (served < settings.memoryConversations) {
    const n = Math.min(chunk, settings.memoryConversations - served);
    const res = await load(bot, { conversations: n, maxTurns: settings.memoryTurns });
    served += res.conversationsFinished;
    const rss = bot.rssMiB();
    peak = Math.max(peak, rss);
    const heap = await heapFromMetrics(bot.url);
    samples.push({ conversations: served, rssMiB: round(rss, 1), ...(heap ? { heapUsedMiB: round(heap.heapUsedMiB, 1), heapTotalMiB: round(heap.heapTotalMiB, 1) } : {}) });
    progress(`  ${served} conversations served: RSS ${rss.toFixed(1)} MiB, heap used ${heap?.heapUsedMiB.toFixed(1) ?? '?'} of ${heap?.heapTotalMiB.toFixed(1) ?? '?'} MiB (${res.turnsPerSecond.toFixed(0)} turns/s)`);
  }
  const rightAfter = bot.rssMiB();
  // V8 gives memory back only once the process has been idle a while (its memory reducer), so the
  // "after" reading is taken after 30 s without traffic, as an operator would see it.
  const settleSamples: { afterSeconds: number; rssMiB: number }[] = [];
  for (let s = 5; s <= 30; s += 5) {
    await new Promise((r) => setTimeout(r, 5000));
    settleSamples.push({ afterSeconds: s, rssMiB: round(bot.rssMiB(), 1) });
  }
  const settled = bot.rssMiB();
  const heapSettled = await heapFromMetrics(bot.url);
  await stopBot(bot);
  const live = liveHeapAfterFullGcs(botLogFile('memory-sqlite'));
  const quarter = Math.max(1, Math.floor(live.length / 4));
  const liveHeap = live.length
    ? {
        fullGcs: live.length,
        firstQuarterMaxMB: Math.max(...live.slice(0, quarter)),
        lastQuarterMaxMB: Math.max(...live.slice(-quarter)),
        lastMB: live.at(-1),
      }
    : undefined;
  if (liveHeap) progress(`memory: live heap after full GCs: first quarter max ${liveHeap.firstQuarterMaxMB} MB, last quarter max ${liveHeap.lastQuarterMaxMB} MB (${live.length} full GCs)`);
  report.memory = {
    turnsPerConversation: settings.memoryTurns,
    idleAfterStartMiB: round(idleCold, 1),
    idleAfterWarmupMiB: round(idleWarm, 1),
    afterServedMiB: round(rightAfter, 1),
    afterServedSettledMiB: round(settled, 1),
    peakMiB: round(peak, 1),
    conversationsServed: served,
    growthOverWarmIdleMiB: round(settled - idleWarm, 1),
    heap: { afterStart: heapCold, afterWarmup: heapWarm, afterServedSettled: heapSettled },
    settleSamples,
    liveHeapAfterFullGc: liveHeap,
    samples,
  };
}

async function startupPhase(): Promise<void> {
  const runs = quick ? 1 : 3;
  const npmTimes: number[] = [];
  const nodeTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const storage = await newStorage('sqlite', 'startup');
    const port = await freePort();
    npmTimes.push(
      await timeNpmStart(
        { NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: settings.logLevel, DATABASE_URL: storage.databaseUrl },
        port,
        join(LOG_DIR, `startup-npm-${runId}.log`),
      ),
    );
    const bot = await startBot(await newStorage('sqlite', 'startup'), 'startup');
    nodeTimes.push(bot.startupMs);
    await stopBot(bot);
    progress(`startup ${i + 1}/${runs}: npm start ${npmTimes.at(-1)!.toFixed(0)} ms, bot process alone ${bot.startupMs.toFixed(0)} ms`);
  }
  report.startup = { runs, npmStartMs: Math.round(median(npmTimes)), botProcessMs: Math.round(median(nodeTimes)), allNpmStartMs: npmTimes.map(Math.round), allBotProcessMs: nodeTimes.map(Math.round) };
}

/**
 * The free-text recogniser's cost (issue 16): every held-out phrasing of the corpus through
 * recognise() in this process after training, as microseconds per message and as a share of a turn's
 * CPU in the throughput phase (the walker presses buttons, which never reach the model).
 */
async function nluPhase(): Promise<void> {
  const resources = createTranslator().resources;
  const t0 = performance.now();
  const recogniser = new Recogniser({ resources });
  const heldout = loadCorpora('heldout');
  await recogniser.warmUp();
  const trainMs = performance.now() - t0;
  const runs = Array.from({ length: quick ? 1 : 3 }, () => measureCost(recogniser, heldout));
  const usPerMessage = median(runs.map((r) => r.full));
  const botRow = (report.throughput as { rows?: { target: string; cpuMsPerTurn?: number }[] } | undefined)?.rows?.find((r) => r.target === 'bot-sqlite');
  const shareOfTurn = botRow?.cpuMsPerTurn ? usPerMessage / (botRow.cpuMsPerTurn * 1000) : undefined;
  report.nlu = {
    messages: heldout.reduce((n, c) => n + c.examples.length, 0),
    trainMs: Math.round(trainMs),
    usPerMessage: round(usPerMessage, 1),
    usInModel: round(median(runs.map((r) => r.model)), 1),
    ...(shareOfTurn !== undefined ? { shareOfTurnCpu: round(shareOfTurn, 3) } : {}),
  };
  progress(`nlu: ${usPerMessage.toFixed(1)} µs per free-text message, training ${trainMs.toFixed(0)} ms`);
}

// --- the table --------------------------------------------------------------------------------------
function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? String(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

function render(): string {
  const out: string[] = [];
  const t = report.throughput as
    | { connections: number; rounds: number; secondsPerRound: number; rows: (Summary & { target: string; ratio: number; cpuRatio?: number })[] }
    | undefined;
  if (t) {
    out.push(`Throughput, ${t.connections} concurrent conversations, POST /api/messages with expectReplies (median of ${t.rounds} round(s) × ${t.secondsPerRound} s)`);
    out.push(
      table(
        ['target', 'turns/s', 'p50 ms', 'p95 ms', 'p99 ms', 'ratio', 'CPU ms/turn', 'CPU ratio'],
        t.rows.map((r) => [
          r.target,
          r.turnsPerSecond,
          r.p50,
          r.p95,
          r.p99,
          r.ratio,
          r.dbCpuMsPerTurn !== undefined ? `${r.cpuMsPerTurn} + db ${r.dbCpuMsPerTurn}` : r.cpuMsPerTurn,
          r.cpuRatio ?? 1,
        ]),
      ),
    );
  }
  const s = report.scale as { store: string; rows: (Summary & { level: number; storedAtStart: number; bytesPerConversation: number; storeBytes: number; relativeToFirst: number })[] } | undefined;
  if (s) {
    out.push('', `Stored conversations (${s.store})`);
    out.push(
      table(
        ['stored', 'turns/s', 'p50 ms', 'p95 ms', 'p99 ms', 'vs first', 'store MB', 'bytes/conv'],
        s.rows.map((r) => [r.storedAtStart, r.turnsPerSecond, r.p50, r.p95, r.p99, r.relativeToFirst, round(r.storeBytes / 1e6, 1), r.bytesPerConversation]),
      ),
    );
  }
  const m = report.memory as (Record<string, number> & { heap?: Record<string, { heapUsedMiB: number } | undefined> }) | undefined;
  if (m) {
    const heap = (k: string) => (m.heap?.[k] ? round(m.heap[k]!.heapUsedMiB, 1) : '?');
    out.push('', 'Memory of the bot process, MiB (RSS; V8 heap used in brackets, from its /metrics)');
    out.push(
      table(
        ['idle after start', 'idle after warm-up', `after ${m.conversationsServed} conversations, 30 s idle`, 'RSS growth'],
        [[`${m.idleAfterStartMiB} (${heap('afterStart')})`, `${m.idleAfterWarmupMiB} (${heap('afterWarmup')})`, `${m.afterServedSettledMiB} (${heap('afterServedSettled')})`, m.growthOverWarmIdleMiB!]],
      ),
    );
  }
  const nlu = report.nlu as { messages: number; trainMs: number; usPerMessage: number; usInModel: number; shareOfTurnCpu?: number } | undefined;
  if (nlu) {
    out.push('', `Free-text recognition (${nlu.messages} held-out phrasings, in process)`);
    out.push(
      table(
        ['µs per message', 'µs in the model', 'share of a turn’s CPU', 'training, all models'],
        [[nlu.usPerMessage, nlu.usInModel, nlu.shareOfTurnCpu !== undefined ? `${(nlu.shareOfTurnCpu * 100).toFixed(1)} %` : 'n/a (no throughput phase)', `${nlu.trainMs} ms`]],
      ),
    );
  }
  const st = report.startup as { npmStartMs: number; botProcessMs: number; runs: number } | undefined;
  if (st) {
    out.push('', `Start-up to the first 200 from /healthz (median of ${st.runs})`);
    out.push(table(['npm start', 'bot process alone'], [[`${st.npmStartMs} ms`, `${st.botProcessMs} ms`]]));
  }
  return out.join('\n');
}

// --- main -------------------------------------------------------------------------------------------
try {
  connector = await startFakeConnector();
  cleanups.push(() => connector.close());
  if (!settings.keep) cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
  const phases: Record<string, () => Promise<void>> = { throughput: throughputPhase, scale: scalePhase, memory: memoryPhase, startup: startupPhase, nlu: nluPhase };
  for (const name of settings.phases) {
    const phase = phases[name];
    if (!phase) throw new Error(`unknown phase ${name} (throughput, scale, memory, startup, nlu)`);
    await phase();
  }
  report.finishedAt = new Date().toISOString();
  report.seconds = Math.round((Date.now() - started) / 1000);
  if (settings.profile) report.profiles = readdirSync(PROFILE_DIR).filter((f) => f.startsWith(runId)).map((d) => join(PROFILE_DIR, d));
  const text = render();
  report.table = text;
  const file = join(RESULTS_DIR, `bench-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${text}\n\nJSON: ${file}`);
} catch (err) {
  progress(`failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
