/**
 * The bot as one JavaScript bundle (dist/index.mjs, its source map inline), from src/index.ts: `npm start`
 * builds it and runs it, so a process starts without compiling TypeScript module by module (the tsx
 * loader cost about a third more CPU to the first answer and ~40 MiB more; README "Performance").
 * Dependencies stay in node_modules. `npm run build` builds only. Plain JavaScript: it runs before
 * anything is compiled.
 */
import { build as esbuild, stop } from 'esbuild';
import { renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const OUTFILE = fileURLToPath(new URL('../dist/index.mjs', import.meta.url));

/**
 * Written beside the bundle under a name of this process's own, then renamed into place: several
 * bots started at once from one checkout (tests, instances) never read a bundle half written.
 */
export async function build() {
  const own = OUTFILE.replace(/\.mjs$/, `.${process.pid}.mjs`);
  await esbuild({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    outfile: own,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  // esbuild's service is a child process: gone before the bot runs, so a killed bot leaves nothing.
  await stop();
  renameSync(own, OUTFILE);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
