/**
 * Where the bot allocates, per turn (GC work follows allocation). Plain JavaScript: it runs in the
 * bundled bot, where there is no TypeScript loader. Two uses:
 *
 * 1. Preload, `--node-flags="--import=$PWD/bench/alloc-profile.mjs"` on `npm run bench`: in the bot
 *    process only (scripts/start.mjs, src/index.*), V8's sampling heap profiler runs with the objects
 *    already collected included, and every ALLOC_PROFILE_WINDOW_MS (10 s) it writes the window's
 *    profile, the POST /api/messages it served (turns) and its GCs to ALLOC_PROFILE_DIR
 *    (bench-results/alloc). ALLOC_PROFILE_SURVIVORS=1 leaves out what scavenges collected: what
 *    survives a scavenge, i.e. what the scavenges copy. ALLOC_PROFILE_INTERVAL=0: no sampling, GCs
 *    only (closing a sampling window costs a full GC, so take GC counts from such a run).
 * 2. Summary, `node bench/alloc-profile.mjs <dir> [--from N] [--to N] [--top 30]`: bytes per turn by
 *    package/file and by function, and our functions inclusive, over the windows that served turns
 *    (the first holds the start-up's model training: pass --from 1). Frames in the bundle are credited
 *    to the file they came from by esbuild's `// path` markers (lines are the bundle's).
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const self = fileURLToPath(import.meta.url);
if (process.argv[1] === self) summarise();
else if (/(scripts\/start\.mjs|src\/index\.[jt]s)$/.test(process.argv[1] ?? '') && (await import('node:worker_threads')).isMainThread) await record();

async function record() {
  const { Session } = await import('node:inspector');
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  const dc = await import('node:diagnostics_channel');
  const dir = process.env.ALLOC_PROFILE_DIR ?? 'bench-results/alloc';
  const interval = Number(process.env.ALLOC_PROFILE_INTERVAL ?? 32768);
  mkdirSync(dir, { recursive: true });
  const base = `${dir}/bot-${process.pid}`;
  const session = new Session();
  session.connect();
  // A session on this thread answers synchronously, so a signal handler can stop and write at once.
  const post = (method, params) => {
    let out;
    session.post(method, params, (err, res) => {
      if (err) throw err;
      out = res;
    });
    return out;
  };
  const start = () =>
    interval > 0 &&
    post('HeapProfiler.startSampling', { samplingInterval: interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.ALLOC_PROFILE_SURVIVORS !== '1' });
  post('HeapProfiler.enable');
  start();
  let turns = 0;
  dc.subscribe('http.server.request.start', ({ request }) => {
    if (request.method === 'POST' && request.url.startsWith('/api/messages')) turns++;
  });
  const kinds = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental' };
  const gc = {};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const k = kinds[e.detail?.kind] ?? 'other';
      gc[k] = (gc[k] ?? 0) + 1;
      gc[`${k}Ms`] = (gc[`${k}Ms`] ?? 0) + e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  let n = 0;
  let t0 = Date.now();
  let done = false;
  const cut = (last) => {
    if (done) return;
    const profile = interval > 0 ? post('HeapProfiler.stopSampling').profile : undefined;
    const file = `${base}-${String(n).padStart(4, '0')}.heapprofile`;
    if (profile) writeFileSync(file, JSON.stringify(profile));
    appendFileSync(`${base}.jsonl`, `${JSON.stringify({ n, file: profile ? file : undefined, t0, t1: Date.now(), turns, gc })}\n`);
    n++;
    t0 = Date.now();
    turns = 0;
    for (const k of Object.keys(gc)) delete gc[k];
    if (last) done = true;
    else start();
  };
  setInterval(() => cut(false), Number(process.env.ALLOC_PROFILE_WINDOW_MS ?? 10_000)).unref();
  // Registered before the bot's own handlers (this module loads first): written before it shuts down.
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => cut(true));
  process.on('exit', () => cut(true));
}

function summarise() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string', default: '30' }, bundle: { type: 'string', default: 'dist/index.cjs' } } });
  const dir = positionals[0];
  if (!dir) throw new Error('usage: node bench/alloc-profile.mjs <dir> [--from N] [--to N] [--top 30] [--bundle dist/index.cjs]');
  const windows = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(`${dir}/${f}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l)))
    .filter((w) => w.turns > 0 && (values.from === undefined || w.n >= Number(values.from)) && (values.to === undefined || w.n <= Number(values.to)));
  // esbuild starts each input of the bundle with a `// node_modules/…` or `// src/…` line.
  const markers = [];
  if (existsSync(values.bundle)) readFileSync(values.bundle, 'utf8').split('\n').forEach((text, line) => /^\/\/ ((?:node_modules|src|dialogs)\/\S+)$/.test(text) && markers.push({ line, path: text.slice(3) }));
  const fileOf = (cf) => {
    if (!/\/dist\/[^/]+\.[mc]js$/.test(cf.url)) return cf.url.replace(/^file:\/\//, '');
    let lo = 0;
    let hi = markers.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (markers[mid].line <= cf.lineNumber) (at = mid), (lo = mid + 1);
      else hi = mid - 1;
    }
    return at >= 0 ? markers[at].path : cf.url;
  };
  const areaOf = (file) => {
    const nm = file.lastIndexOf('node_modules/');
    if (nm >= 0) {
      const rest = file.slice(nm + 13).split('/');
      return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    }
    return /(?:^|\/)((?:src|dialogs)\/.*)$/.exec(file)?.[1] ?? (file || '(V8)');
  };
  const own = (area) => /^(src|dialogs)\//.test(area);
  const byArea = new Map();
  const byFn = new Map();
  const inclusive = new Map();
  const add = (m, k, b) => m.set(k, (m.get(k) ?? 0) + b);
  let total = 0;
  const walk = (node, stack) => {
    const area = areaOf(fileOf(node.callFrame));
    // A builtin (Map, Set, join, …) has no script: its bytes go to the function that called it.
    const where = node.callFrame.url ? `${area}:${node.callFrame.lineNumber + 1}` : area;
    const frame = !node.callFrame.url && stack.length && !/^\(/.test(node.callFrame.functionName) ? stack.at(-1) : { label: `${node.callFrame.functionName || '(anonymous)'}  ${where}`, area };
    const here = frame === stack.at(-1) ? stack : [...stack, frame];
    if (node.selfSize) {
      total += node.selfSize;
      add(byArea, frame.area, node.selfSize);
      add(byFn, frame.label, node.selfSize);
      for (const label of new Set(here.filter((f) => own(f.area)).map((f) => f.label))) add(inclusive, label, node.selfSize);
    }
    for (const child of node.children) walk(child, here);
  };
  let turns = 0;
  const gc = {};
  for (const w of windows) {
    turns += w.turns;
    for (const [k, v] of Object.entries(w.gc)) gc[k] = (gc[k] ?? 0) + v;
    const before = total;
    if (w.file) walk(JSON.parse(readFileSync(w.file, 'utf8')).head, []);
    console.log(`window ${w.n}: ${w.turns} turns, ${((w.t1 - w.t0) / 1000).toFixed(1)} s, ${Math.round((total - before) / w.turns)} B/turn, ${w.gc.scavenge ?? 0} scavenges`);
  }
  const per = (b) => String(Math.round(b / turns)).padStart(8);
  const perK = (k) => ((1000 * (gc[k] ?? 0)) / turns).toFixed(1);
  console.log(`${windows.length} windows (${windows.map((w) => w.n).join(',')}), ${turns} turns; ${Math.round(total / turns)} B allocated per turn`);
  console.log(`per 1000 turns: ${perK('scavenge')} scavenges (${perK('scavengeMs')} ms), ${perK('markCompact')} mark-compacts (${perK('markCompactMs')} ms; one per sampled window is the profiler's)`);
  const show = (title, m) => {
    console.log(`\n## ${title} (B/turn, share)`);
    for (const [k, b] of [...m].sort((a, z) => z[1] - a[1]).slice(0, Number(values.top))) console.log(`${per(b)} ${((100 * b) / total).toFixed(1).padStart(5)}%  ${k}`);
  };
  show('by package / file', byArea);
  show('by function (self)', byFn);
  show('our functions, inclusive (synchronous callees only)', inclusive);
}
