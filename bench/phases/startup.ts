/**
 * Start-up to the first 200 from /healthz, once per start mode (--start-modes): the literal
 * `npm start` (npm, then the bot) and the bot process alone. `bundle` is today's `npm start`
 * (scripts/start.mjs builds an esbuild bundle and runs it); `tsx` runs src/index.ts through the tsx
 * loader (the `npm start` before issue 19); `compiled` is the bot compiled by tsc into the run's work
 * directory, whose package.json has the `start` script a compiled `npm start` would have. For `tsx`,
 * the npm start column measures the checkout's own `npm start`, i.e. the bundle.
 *
 * The bundle reads V8's code cache that a bot of the same build wrote once its start-up was behind
 * it (scripts/run-bundle.mjs). So `bundle` is timed twice: once as the first start after a build
 * (the cache removed), then, after a bot has written the cache, as every later start.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { botEnv, compiledBot, newStorage, startBot, stopBot } from '../lib/bots';
import { LOG_DIR, progress, quickRun, report, runId } from '../lib/context';
import { freePort, timeNpmStart } from '../lib/processes';
import { settings } from '../lib/settings';
import { median } from '../lib/stats';

export async function startupPhase(): Promise<void> {
  const runs = quickRun() ? 1 : 3;
  const rows: Record<string, unknown>[] = [];
  for (const mode of settings.startModes) {
    const cwd = mode === 'compiled' ? compiledBot().dir : settings.botRoot;
    const firstStartMs = mode === 'bundle' ? await firstStartAfterBuild() : undefined;
    const npmTimes: number[] = [];
    const nodeTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      const storage = await newStorage('sqlite', `startup-${mode}`);
      const port = await freePort();
      npmTimes.push(await timeNpmStart(botEnv(port, storage.databaseUrl), port, join(LOG_DIR, `startup-npm-${mode}-${runId}.log`), cwd));
      const bot = await startBot(await newStorage('sqlite', `startup-${mode}`), `startup-${mode}`, { mode });
      nodeTimes.push(bot.startupMs);
      await stopBot(bot);
      progress(`startup (${mode}) ${i + 1}/${runs}: npm start ${npmTimes.at(-1)!.toFixed(0)} ms, bot process alone ${bot.startupMs.toFixed(0)} ms`);
    }
    rows.push({ startMode: mode, ...(firstStartMs === undefined ? {} : { firstNpmStartMs: Math.round(firstStartMs) }), npmStartMs: Math.round(median(npmTimes)), botProcessMs: Math.round(median(nodeTimes)), allNpmStartMs: npmTimes.map(Math.round), allBotProcessMs: nodeTimes.map(Math.round) });
  }
  report.startup = { runs, rows };
}

type BuildScript = { build: () => Promise<void>; upToDate: () => boolean; OUTFILE: string };
type RunnerScript = { codeCachesOf: (bundle: string) => string[] };

/**
 * `npm start` without a code cache, as after `npm ci`; then a bot that runs until it has written one.
 * Undefined for a checkout from before the code cache (--bot-root), which has nothing to time twice.
 */
async function firstStartAfterBuild(): Promise<number | undefined> {
  const script = (name: string) => join(settings.botRoot, 'scripts', name);
  if (!existsSync(script('run-bundle.mjs'))) return undefined;
  const { build, upToDate, OUTFILE } = (await import(pathToFileURL(script('build.mjs')).href)) as BuildScript;
  const { codeCachesOf } = (await import(pathToFileURL(script('run-bundle.mjs')).href)) as RunnerScript;
  // Built first when a source changed, so that the time is a start's, not a build's.
  if (!upToDate()) await build();
  for (const file of codeCachesOf(OUTFILE)) rmSync(file, { force: true });
  const port = await freePort();
  const ms = await timeNpmStart(botEnv(port, (await newStorage('sqlite', 'startup-first')).databaseUrl), port, join(LOG_DIR, `startup-npm-first-${runId}.log`), settings.botRoot);
  const bot = await startBot(await newStorage('sqlite', 'startup-cache'), 'startup-cache', { mode: 'bundle' });
  const t0 = Date.now();
  while (codeCachesOf(OUTFILE).length === 0 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 250));
  await stopBot(bot);
  progress(`startup (bundle) first after a build: npm start ${ms.toFixed(0)} ms; code cache ${codeCachesOf(OUTFILE).length ? `written ${((Date.now() - t0) / 1000).toFixed(0)} s after the bot was up` : 'NOT written'}`);
  return ms;
}
