/**
 * The bot as one JavaScript bundle, dependencies included (dist/index.cjs, its source map beside it
 * as dist/index.cjs.map), from src/index.ts. `npm ci` builds it (`prepare`); `npm start` runs it,
 * rebuilding first only when a source it was built from changed (./start.mjs). Loading one file
 * instead of some 1,500 modules of node_modules took a third off the CPU to the first 200 from
 * /healthz, and the TypeScript loader before that cost another third (README "Performance").
 *
 * CommonJS, not an ES module: a script can be compiled with V8's code cache on Node 20
 * (./run-bundle.mjs), which an ES module cannot. Its first line names the build (a comment,
 * `build <uuid>`), so a code cache is only ever read by the bundle it was made from.
 *
 * Left out of the bundle, loaded from node_modules: native addons, packages that start workers from
 * files of their own, and what only some set-ups use and is imported on first use (Vega for the
 * report's chart, nodemailer for the email backend), so every start does not compile them.
 * Plain JavaScript: it runs before anything is compiled.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeCachesOf } from './run-bundle.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OUTFILE = `${ROOT}dist/index.cjs`;
/** What the bundle was built from: a fingerprint of its inputs (./start.mjs compares). */
const stampOf = (root) => `${root}dist/index.cjs.inputs.json`;

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

/** Whether dist/index.cjs (of the checkout at `root`) was built from the sources as they are now. */
export function upToDate(root = ROOT) {
  try {
    const stamp = JSON.parse(readFileSync(stampOf(root), 'utf8'));
    statSync(`${root}dist/index.cjs`);
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
 * Written in a folder of this process's own beside dist/ (the source map's link names the final
 * file and its paths are relative to the folder), then renamed into place: several bots started at
 * once from one checkout (tests, instances) never read a bundle half written.
 */
export async function build() {
  const own = `${ROOT}.dist-${process.pid}/index.cjs`;
  // Imported here, not at the top: every `npm start` imports this file to check the stamp (30 ms).
  const { build: esbuild, stop } = await import('esbuild');
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: ['src/index.ts'],
    outfile: own,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: EXTERNAL,
    // The build's name first (./run-bundle.mjs reads it); strict, as the ES module bundle was (the
    // directive must come before any statement); the bundle's own URL for `import.meta.url`.
    banner: { js: `/* build ${randomUUID()} */ "use strict"; var __pceImportMetaUrl = require("node:url").pathToFileURL(__filename).href;` },
    define: { 'import.meta.url': '__pceImportMetaUrl' },
    // A file beside the bundle, for profiles and `NODE_OPTIONS=--enable-source-maps` (not read at a plain start: +80 MiB).
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  // esbuild's service is a child process: gone before the bot runs, so a killed bot leaves nothing.
  await stop();
  const files = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/'));
  mkdirSync(dirname(OUTFILE), { recursive: true }); // a fresh clone has no dist/ yet
  renameSync(`${own}.map`, `${OUTFILE}.map`);
  renameSync(own, OUTFILE);
  rmSync(dirname(own), { recursive: true, force: true });
  writeStamp(files);
  // Code caches of earlier builds, and the ES module bundle of the builds before those.
  for (const file of codeCachesOf(OUTFILE)) rmSync(file, { force: true });
  for (const file of readdirSync(`${ROOT}dist`)) if (file.startsWith('index.mjs')) rmSync(`${ROOT}dist/${file}`, { force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
