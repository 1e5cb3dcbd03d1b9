/**
 * V8's code cache for the bundle `npm start` runs (scripts/run-bundle.mjs), with small bundles of
 * the build's shape run in real node processes: the first run writes the cache once start-up is
 * behind it, later runs read it, a cache of another build or a damaged one is never used to run
 * code, and the bundle runs the same either way.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../src/root';
import { testDir } from '../support';

const RUNNER = pathToFileURL(join(ROOT, 'scripts', 'run-bundle.mjs')).href;

/** A bundle as scripts/build.mjs writes it: the build named first, strict, CommonJS. */
function writeBundle(dir: string, build = randomUUID()): { file: string; build: string } {
  const file = join(dir, 'index.cjs');
  writeFileSync(
    file,
    `/* build ${build} */ "use strict"; var __pceImportMetaUrl = require("node:url").pathToFileURL(__filename).href;
const { join } = require("node:path");
function strict() { return this === undefined; }
const lent = globalThis[Symbol.for("pce-support-bot.import")];
lent("node:os").then((os) => {
  console.log(JSON.stringify({ strict: strict(), platform: typeof os.platform, url: __pceImportMetaUrl, joined: join("a", "b") }));
  // Alive past the runner's warm-up, as a bot is.
  setTimeout(() => undefined, 300);
});
`,
  );
  return { file, build };
}

interface Run {
  cache: string;
  output: { strict: boolean; platform: string; url: string; joined: string };
  stderr: string;
}

/** Runs the bundle in a node process of its own with a short warm-up. */
function run(file: string, nodeFlags: string[] = []): Promise<Run> {
  const code = `import(${JSON.stringify(RUNNER)}).then((m) => console.log(JSON.stringify({ cache: m.runBundle(${JSON.stringify(file)}, { warmAfterMs: 100 }) })))`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...nodeFlags, '-e', code], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ cache: lines.find((l) => 'cache' in l)!.cache as string, output: lines.find((l) => 'strict' in l) as unknown as Run['output'], stderr });
    });
  });
}

const caches = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.v8cache'));

describe('the code cache of the bundle npm start runs', () => {
  it('is written by the first run once start-up is behind it and read by the next, which runs the same', { timeout: 60_000 }, async () => {
    const dir = testDir('pce-code-cache-').path;
    const { file, build } = writeBundle(dir);

    const first = await run(file);
    expect(first.cache).toBe('absent');
    expect(caches(dir)).toEqual([`index.cjs.${build}.v8cache`]);

    const second = await run(file);
    expect(second.cache).toBe('read');
    expect(second.output).toEqual(first.output);
    // Strict as an ES module, its own URL for import.meta.url, and import() lent without node's experimental warning.
    expect(first.output).toEqual({ strict: true, platform: 'function', url: pathToFileURL(file).href, joined: join('a', 'b') });
    expect(first.stderr + second.stderr).not.toMatch(/ExperimentalWarning/);
  });

  it('is never read by another build, even of the same length', { timeout: 60_000 }, async () => {
    const dir = testDir('pce-code-cache-').path;
    const { file } = writeBundle(dir);
    await run(file);
    const [written] = caches(dir);
    const { build: next } = writeBundle(dir);

    expect((await run(file)).cache).toBe('absent');
    expect(caches(dir).sort()).toEqual([written, `index.cjs.${next}.v8cache`].sort());
  });

  it('is refused by V8 when damaged: the bundle compiles as without one, runs, and a good cache replaces it', { timeout: 60_000 }, async () => {
    const dir = testDir('pce-code-cache-').path;
    const { file, build } = writeBundle(dir);
    const good = await run(file);
    const cacheFile = join(dir, `index.cjs.${build}.v8cache`);
    const bytes = readFileSync(cacheFile);
    for (let i = 0; i < bytes.length; i += 7) bytes[i] = (bytes[i]! + 1) % 256;
    writeFileSync(cacheFile, bytes);

    const damaged = await run(file);
    expect(damaged.cache).toBe('rejected');
    expect(damaged.output).toEqual(good.output);
    expect((await run(file)).cache).toBe('read');
  });

  it('is left aside under --enable-source-maps, so that stack traces name the TypeScript lines', { timeout: 60_000 }, async () => {
    const dir = testDir('pce-code-cache-').path;
    writeFileSync(join(dir, 'boom.ts'), 'function boom(): string {\n  return new Error("boom").stack ?? "";\n}\nconsole.log(JSON.stringify({ strict: true, stack: boom() }));\n');
    const { build } = await import('esbuild');
    await build({ entryPoints: [join(dir, 'boom.ts')], outfile: join(dir, 'index.cjs'), bundle: true, format: 'cjs', platform: 'node', sourcemap: 'linked', logLevel: 'silent' });

    const mapped = await run(join(dir, 'index.cjs'), ['--enable-source-maps']);
    expect(mapped.cache).toBe('source-maps');
    expect((mapped.output as unknown as { stack: string }).stack).toContain(`${join(dir, 'boom.ts')}:2:10`);
    expect(caches(dir)).toEqual([]);
  });

  it('is not looked for beside a bundle that names no build', { timeout: 60_000 }, async () => {
    const dir = testDir('pce-code-cache-').path;
    const file = join(dir, 'index.cjs');
    writeFileSync(file, 'globalThis[Symbol.for("pce-support-bot.import")]("node:os").then(() => console.log(JSON.stringify({ strict: true })));');
    expect((await run(file)).cache).toBe('unnamed');
    expect(existsSync(dir) && caches(dir)).toEqual([]);
  });
});
