/**
 * Start-up to the first 200 from /healthz, once per start mode (--start-modes): the literal
 * `npm start` (npm, then the bot) and the bot process alone. `bundle` is today's `npm start`
 * (scripts/start.mjs builds an esbuild bundle and runs it); `tsx` runs src/index.ts through the tsx
 * loader (the `npm start` before issue 19); `compiled` is the bot compiled by tsc into the run's work
 * directory, whose package.json has the `start` script a compiled `npm start` would have. For `tsx`,
 * the npm start column measures the checkout's own `npm start`, i.e. the bundle.
 */
import { join } from 'node:path';
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
    rows.push({ startMode: mode, npmStartMs: Math.round(median(npmTimes)), botProcessMs: Math.round(median(nodeTimes)), allNpmStartMs: npmTimes.map(Math.round), allBotProcessMs: nodeTimes.map(Math.round) });
  }
  report.startup = { runs, rows };
}
