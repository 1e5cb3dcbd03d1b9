/** `npm run bench -- [options]`: the command line, read once. */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './processes';

export const HELP = `npm run bench -- [options]
  --quick                  short run (1 round of 3 s, scale 1k/10k, memory 1500 conversations, 300 recorded walks)
  --phases LIST            throughput,nlu,scale,memory,startup (default: all)
  --delivery MODE          connector (default: replies, card updates and member look-ups through a fake
                           Bot Framework connector on loopback) | expectReplies (replies in the HTTP response)
  --connections N          concurrent conversations (default 50)
  --rounds N               alternating rounds per target (default 3)
  --seconds S              measured seconds per target and round (default 10)
  --warmup S               warm-up seconds per target before measuring (default 3)
  --walks N                walks recorded on the bot and replayed by every target (default 2000)
  --stores LIST            storage variants of the throughput phase: sqlite,postgres (default both)
  --scale LIST             stored-conversation levels (default 1000,100000,1000000)
  --scale-store NAME       sqlite | postgres (default sqlite)
  --returning-share F      scale phase: share of turns that continue stored conversations (default 0.5)
  --memory-conversations N conversations served before the second RSS reading (default 100000)
  --memory-turns N         turns per conversation at most in the memory phase (default: --max-turns, full walks)
  --start-modes LIST       startup and memory phases: bundle (npm start: the esbuild bundle), tsx (the TypeScript
                           loader), compiled (tsc output, plain node); default bundle,tsx
  --max-turns N            a conversation is left after this many turns (default 15)
  --connector-delay-ms N   the fake connector answers after N ms (default 0)
  --pg-url URL             PostgreSQL server for the bench's own database (default postgres://postgres@127.0.0.1:5432/test)
  --work-dir DIR           SQLite files and the compiled bot (default bench-results/work: the disk ./data is on)
  --log-level LEVEL        LOG_LEVEL of the bot (default info, as in production)
  --bot-env LIST           extra environment of every bot process, NAME=VALUE,... (e.g. WEBCHAT_ENABLED=false)
  --profile                run the bot with node --cpu-prof; profiles go to bench-results/profiles/
  --seed N                 seed of the random walk (default 42)
  --keep                   keep the temporary SQLite files and PostgreSQL databases
  --bot-root DIR           run the bot from another checkout (a git worktree), e.g. to compare before/after a fix
  --node-flags="FLAGS"     extra node flags for every bot process, e.g. --node-flags=--max-old-space-size=160
  --compare-root DIR       throughput phase: also run a SQLite bot from DIR in the same alternating rounds
  --durable-echo           throughput phase: also the echo bot with a SQLite read and write transaction per turn
                           (reference-durable): what a durable store alone costs against the bare echo`;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    phases: { type: 'string' },
    delivery: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    walks: { type: 'string' },
    stores: { type: 'string' },
    scale: { type: 'string' },
    'scale-store': { type: 'string' },
    'returning-share': { type: 'string' },
    'memory-conversations': { type: 'string' },
    'memory-turns': { type: 'string' },
    'start-modes': { type: 'string' },
    'max-turns': { type: 'string' },
    'connector-delay-ms': { type: 'string' },
    'pg-url': { type: 'string' },
    'work-dir': { type: 'string' },
    'log-level': { type: 'string' },
    'bot-env': { type: 'string' },
    profile: { type: 'boolean', default: false },
    seed: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'bot-root': { type: 'string' },
    'compare-root': { type: 'string' },
    'durable-echo': { type: 'boolean', default: false },
    'node-flags': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

export const quick = args.quick;
const num = (v: string | undefined, dflt: number) => (v === undefined ? dflt : Number(v));
const list = (v: string | undefined, dflt: string) => (v ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);
const maxTurns = num(args['max-turns'], 15);

/** `bundle`: `npm start` (scripts/start.mjs: an esbuild bundle); `tsx`: the TypeScript loader; `compiled`: tsc's output. */
export type StartMode = 'bundle' | 'tsx' | 'compiled';
export type Delivery = 'connector' | 'expectReplies';

export const settings = {
  phases: list(args.phases, 'throughput,nlu,scale,memory,startup'),
  delivery: (args.delivery ?? 'connector') as Delivery,
  connections: num(args.connections, 50),
  rounds: num(args.rounds, quick ? 1 : 3),
  seconds: num(args.seconds, quick ? 3 : 10),
  warmup: num(args.warmup, quick ? 1 : 3),
  walks: num(args.walks, quick ? 300 : 2000),
  stores: list(args.stores, 'sqlite,postgres') as ('sqlite' | 'postgres')[],
  scale: list(args.scale, quick ? '1000,10000' : '1000,100000,1000000').map(Number),
  scaleStore: (args['scale-store'] ?? 'sqlite') as 'sqlite' | 'postgres',
  returningShare: num(args['returning-share'], 0.5),
  memoryConversations: num(args['memory-conversations'], quick ? 1500 : 100_000),
  memoryTurns: num(args['memory-turns'], maxTurns),
  startModes: list(args['start-modes'], 'bundle,tsx') as StartMode[],
  maxTurns,
  connectorDelayMs: num(args['connector-delay-ms'], 0),
  pgUrl: args['pg-url'] ?? 'postgres://postgres@127.0.0.1:5432/test',
  workDir: resolve(args['work-dir'] ?? join(REPO_ROOT, 'bench-results', 'work')),
  logLevel: args['log-level'] ?? 'info',
  botEnv: Object.fromEntries(list(args['bot-env'], '').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) as Record<string, string>,
  profile: args.profile,
  seed: num(args.seed, 42),
  keep: args.keep,
  botRoot: resolve(args['bot-root'] ?? REPO_ROOT),
  nodeFlags: list(args['node-flags']?.replace(/\s+/g, ','), ''),
  compareRoot: args['compare-root'] ? resolve(args['compare-root']) : undefined,
  durableEcho: args['durable-echo'],
  quick,
};

const mayBeZero = new Set(['returningShare', 'connectorDelayMs']);
for (const [k, v] of Object.entries(settings)) {
  if (typeof v === 'number' && !(Number.isFinite(v) && (v > 0 || (mayBeZero.has(k) && v === 0)))) throw new Error(`--${k} must be a positive number`);
}
if (settings.returningShare > 1) throw new Error('--returning-share is a share of the turns, 0 to 1');
if (!['connector', 'expectReplies'].includes(settings.delivery)) throw new Error('--delivery is connector or expectReplies');
for (const m of settings.startModes) if (m !== 'bundle' && m !== 'tsx' && m !== 'compiled') throw new Error(`--start-modes: unknown mode ${m} (bundle, tsx, compiled)`);
for (const k of Object.keys(settings.botEnv)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`--bot-env: ${k} is not a variable name`);

export type Settings = typeof settings;
