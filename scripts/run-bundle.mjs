/**
 * Runs the CommonJS bundle (./build.mjs) as node runs a CommonJS file (the module wrapper, a
 * `require` from the bundle's folder), but compiled through `vm.Script`, which takes V8's code cache
 * on Node 20 (Node 22's `module.enableCompileCache` does this for every module).
 *
 * Most of a cold start is V8 compiling the functions start-up runs, lazily, one by one; a cache
 * written right after compiling holds little more than the top level and saves nothing. So the
 * cache is written by the running bot once start-up is behind it (`WARM_AFTER_MS`), when it holds
 * the bytecode of everything start-up compiled: the first start after a build writes it, later
 * starts read it. V8 checks the cache against its own version and flags and rejects a stale one
 * (the bundle then compiles as without a cache, and a fresh cache is written); the file is named
 * after the build, so a cache is only ever read by the bundle it was made from. Nothing here is
 * needed for the bot to run: a cache that cannot be read or written only costs start-up time.
 */
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import vm from 'node:vm';

/** Start-up, the case-backend check and the free-text models' training are over by then. */
export const WARM_AFTER_MS = 10_000;

/** The build a bundle's first line names (./build.mjs), or undefined. */
const buildOf = (source) => /^\/\* build ([0-9a-f-]{36}) \*\//.exec(source)?.[1];

/** The code cache of that build of that bundle. */
const cacheFileOf = (bundle, build) => `${bundle}.${build}.v8cache`;

/** The code caches beside `bundle`, of every build (paths): what a new build removes, what the bench times without. */
export function codeCachesOf(bundle) {
  const prefix = `${basename(bundle)}.`;
  try {
    return readdirSync(dirname(bundle))
      .filter((f) => f.startsWith(prefix) && f.endsWith('.v8cache'))
      .map((f) => join(dirname(bundle), f));
  } catch {
    return [];
  }
}

/**
 * Runs `bundle`. Returns what became of the cache: `read` (V8 took it), `rejected` (V8 refused it:
 * another node or other flags), `absent` (none yet), `unnamed` (a bundle without a build name), or
 * `source-maps` (not used: see below).
 */
export function runBundle(bundle, { warmAfterMs = WARM_AFTER_MS } = {}) {
  // src/import-package.ts: this module's import(), which node serves without a warning.
  globalThis[Symbol.for('pce-support-bot.import')] = (specifier) => import(specifier);
  if (process.sourceMapsEnabled) {
    // Stack traces in TypeScript lines (--enable-source-maps): node applies a source map only to
    // modules its own loader loads, so the bundle is loaded that way, without the code cache.
    createRequire(import.meta.url)(bundle);
    return 'source-maps';
  }
  const source = readFileSync(bundle, 'utf8');
  const build = buildOf(source);
  const cacheFile = build && cacheFileOf(bundle, build);
  let cachedData;
  try {
    if (cacheFile) cachedData = readFileSync(cacheFile);
  } catch {
    // None yet: this start compiles as without one, and writes it.
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    cachedData,
    // A bundled package's own import() (none at the time of writing) still works, with node's warning.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cache = !cacheFile ? 'unnamed' : !cachedData ? 'absent' : script.cachedDataRejected ? 'rejected' : 'read';
  if (cache === 'absent' || cache === 'rejected') setTimeout(() => writeCache(script, cacheFile), warmAfterMs).unref();
  const module = { exports: {}, filename: bundle, id: bundle, loaded: false };
  script.runInThisContext().call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return cache;
}

/** Under a name of this process's own, renamed into place: instances starting together never read half a file. */
function writeCache(script, cacheFile) {
  const own = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(own, script.createCachedData());
    renameSync(own, cacheFile);
  } catch {
    // A read-only checkout (an image) or a full disk: every start compiles, as before.
    rmSync(own, { force: true });
  }
}
