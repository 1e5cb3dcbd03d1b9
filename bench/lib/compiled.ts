/**
 * The bot compiled to JavaScript and run by plain node, beside `npm start`'s tsx loader (issue 19:
 * measure both ways once, then choose). `tsc -p tsconfig.build.json` (the checkout's own, else one
 * made here with the same settings) emits src/ and dialogs/ into a directory of the bench's, and this
 * module makes that output runnable the way a product build would have to:
 *
 * 1. relative imports get their `.js` (or `/index.js`): the sources import without extensions, which
 *    tsx resolves and plain node's ESM loader does not (the product would write `./x.js` in its
 *    imports, with `moduleResolution: NodeNext`, or bundle);
 * 2. files that are not TypeScript and are read next to their module (the Teams card template
 *    `cards/step.json`, the web chat page) are copied beside the compiled modules;
 * 3. `locales/` is linked where `src/i18n.js` looks for it (`<out>/src/../locales`), node_modules and
 *    `.env` too, and a package.json gives the directory `"type": "module"` and the `start` script
 *    `npm start` would run.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

export interface CompiledBot {
  /** Directory with package.json, src/, dialogs/ (compiled), locales and node_modules links. */
  dir: string;
  /** The entry point plain node runs. */
  script: string;
  /** The node flags of the `start` script in `dir`. */
  startScript: string;
  buildMs: number;
  tsconfig: string;
  /** TypeScript errors reported (the output is emitted anyway). */
  typeErrors: number;
  /** Relative imports that needed an extension, and those that could not be resolved. */
  rewrittenImports: number;
  unresolvedImports: string[];
  copiedAssets: string[];
}

const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"\n]*)\2/g;

/**
 * Gives extensionless relative specifiers in compiled JavaScript the file they mean: `resolveSpec`
 * answers the specifier to write (or undefined when it cannot be resolved: left as it is).
 */
export function rewriteSpecifiers(code: string, resolveSpec: (spec: string) => string | undefined): { code: string; rewritten: number; unresolved: string[] } {
  let rewritten = 0;
  const unresolved: string[] = [];
  const out = code.replace(SPECIFIER, (whole, lead: string, quote: string, spec: string) => {
    if (/\.(m?js|cjs|json|node)$/.test(spec)) return whole;
    const to = resolveSpec(spec);
    if (!to) {
      unresolved.push(spec);
      return whole;
    }
    rewritten += 1;
    return `${lead}${quote}${to}${quote}`;
  });
  return { code: out, rewritten, unresolved };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

function link(target: string, path: string): void {
  if (existsSync(target) && !existsSync(path)) symlinkSync(realpathSync(target), path);
}

/** Compiles the bot of checkout `root` into `outDir` and makes it runnable by plain node. */
export function buildCompiled(root: string, outDir: string, nodeFlags: string): CompiledBot {
  const t0 = performance.now();
  mkdirSync(outDir, { recursive: true });
  let tsconfig = join(root, 'tsconfig.build.json');
  if (!existsSync(tsconfig)) {
    // An older checkout: the same settings as this repository's tsconfig.build.json.
    tsconfig = join(dirname(outDir), `tsconfig.build-${Date.now().toString(36)}.json`);
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: { noEmit: false, rootDir: root, outDir, sourceMap: false, declaration: false, incremental: false, typeRoots: [join(root, 'node_modules', '@types')] },
        include: [join(root, 'src'), join(root, 'dialogs')],
      }),
    );
  }
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', tsconfig, '--outDir', outDir, '--rootDir', root], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const script = join(outDir, 'src', 'index.js');
  if (!existsSync(script)) throw new Error(`tsc emitted no ${relative(outDir, script)} (exit ${run.status}):\n${output.slice(0, 2000)}`);
  const typeErrors = (output.match(/error TS\d+/g) ?? []).length;

  let rewrittenImports = 0;
  const unresolvedImports: string[] = [];
  for (const file of filesUnder(outDir).filter((f) => f.endsWith('.js'))) {
    const here = dirname(file);
    const r = rewriteSpecifiers(readFileSync(file, 'utf8'), (spec) => {
      const abs = resolve(here, spec);
      if (existsSync(`${abs}.js`)) return `${spec}.js`;
      if (existsSync(join(abs, 'index.js'))) return `${spec.replace(/\/$/, '')}/index.js`;
      return undefined;
    });
    if (r.rewritten) writeFileSync(file, r.code);
    rewrittenImports += r.rewritten;
    unresolvedImports.push(...r.unresolved.map((s) => `${relative(outDir, file)}: ${s}`));
  }

  const copiedAssets: string[] = [];
  for (const area of ['src', 'dialogs']) {
    for (const file of filesUnder(join(root, area)).filter((f) => !f.endsWith('.ts'))) {
      const to = join(outDir, relative(root, file));
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(file, to);
      copiedAssets.push(relative(root, file));
    }
  }
  link(join(root, 'locales'), join(outDir, 'locales'));
  link(join(root, 'node_modules'), join(outDir, 'node_modules'));
  link(join(root, '.env'), join(outDir, '.env'));
  const startScript = `node ${nodeFlags} src/index.js`.replace(/\s+/g, ' ');
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ name: 'bench-compiled-bot', private: true, type: 'module', scripts: { start: startScript } }, null, 2)}\n`);
  return {
    dir: outDir,
    script,
    startScript,
    buildMs: Math.round(performance.now() - t0),
    tsconfig,
    typeErrors,
    rewrittenImports,
    unresolvedImports,
    copiedAssets,
  };
}
