/**
 * The bot as one JavaScript bundle, dependencies included (dist/index.mjs, its source map beside it
 * as dist/index.mjs.map), from src/index.ts. `npm ci` builds it (`prepare`); `npm start` runs it,
 * rebuilding first only when a source it was built from changed (./start.mjs). Loading one file
 * instead of some 1,500 modules of node_modules took a third off the CPU to the first 200 from
 * /healthz, and the TypeScript loader before that cost another third (README "Performance").
 *
 * Left out of the bundle, loaded from node_modules: native addons, packages that start workers from
 * files of their own, and what only some set-ups use and is imported on first use (Vega for the
 * report's chart, nodemailer for the email backend), so every start does not compile them.
 * Plain JavaScript: it runs before anything is compiled.
 */
import { build as esbuild, stop } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OUTFILE = `${ROOT}dist/index.mjs`;
/** What the bundle was built from: a fingerprint of its inputs (./start.mjs compares). */
const stampOf = (root) => `${root}dist/index.mjs.inputs.json`;

const EXTERNAL = [
  'better-sqlite3',
  'pg-native',
  'esbuild',
  'dtrace-provider',
  'pino',
  'thread-stream',
  'vega',
  'nodemailer',
];

/**
 * The files a fingerprint covers: the bundle's own sources (size and time of change) and npm's
 * record of node_modules (rewritten by every install), plus this script.
 */
function fingerprint(files, root) {
  const hash = createHash('sha256');
  for (const file of [...files, 'node_modules/.package-lock.json', 'scripts/build.mjs'].sort()) {
    try {
      const s = statSync(`${root}${file}`);
      hash.update(`${file}\0${s.size}\0${s.mtimeMs}\n`);
    } catch {
      hash.update(`${file}\0missing\n`);
    }
  }
  return hash.digest('hex');
}

/** Whether dist/index.mjs (of the checkout at `root`) was built from the sources as they are now. */
export function upToDate(root = ROOT) {
  try {
    const stamp = JSON.parse(readFileSync(stampOf(root), 'utf8'));
    statSync(`${root}dist/index.mjs`);
    return Array.isArray(stamp.files) && stamp.fingerprint === fingerprint(stamp.files, root);
  } catch {
    return false;
  }
}

/** Records that the bundle of `root` was built from `files` (paths relative to `root`) as they are now. */
export function writeStamp(files, root = ROOT) {
  const own = `${stampOf(root)}.${process.pid}`;
  writeFileSync(own, JSON.stringify({ fingerprint: fingerprint(files, root), files }));
  renameSync(own, stampOf(root));
}

/**
 * Written beside the bundle under names of this process's own, then renamed into place: several
 * bots started at once from one checkout (tests, instances) never read a bundle half written.
 */
export async function build() {
  const own = OUTFILE.replace(/\.mjs$/, `.${process.pid}.mjs`);
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: ['src/index.ts'],
    outfile: own,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // Bundled CommonJS packages require Node's own modules; an ES module has no `require` of its own.
    banner: { js: "import { createRequire as __pceCreateRequire } from 'node:module'; const require = __pceCreateRequire(import.meta.url);" },
    // A file beside the bundle, for profiles and `NODE_OPTIONS=--enable-source-maps` (not read at a plain start: +80 MiB).
    sourcemap: 'external',
    metafile: true,
    logLevel: 'warning',
  });
  // esbuild's service is a child process: gone before the bot runs, so a killed bot leaves nothing.
  await stop();
  const files = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/'));
  renameSync(`${own}.map`, `${OUTFILE}.map`);
  renameSync(own, OUTFILE);
  writeStamp(files);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
