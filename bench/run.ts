/**
 * `npm run bench`: what a turn of the product bot costs, against a bare botbuilder echo bot measured
 * in the same run on the same machine. A script, never a test: it prints the targets and tables and
 * writes JSON to bench-results/. See README.md "Performance" and `npm run bench -- --help`.
 *
 * Phases (all by default; `--phases` picks some), each in bench/phases/:
 *   throughput  N concurrent conversations (default 50) against the reference, the bot on SQLite and
 *               the bot on PostgreSQL, alternating for several rounds; medians of the rounds.
 *   nlu         the free-text recogniser's cost per message.
 *   scale       the bot with 1k / 100k / 1M stored conversations, half the turns by returning people.
 *   memory      the bot's RSS idle, then after 100k full conversations served (tsx and compiled).
 *   startup     `npm start` (and the bot process alone) to the first 200 from /healthz (tsx and compiled).
 *
 * By default the bots answer through a fake Bot Framework connector on loopback (bench/lib/connector.ts),
 * as on Teams; `--delivery expectReplies` puts the replies in the HTTP response instead.
 */
import { writeFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { startFakeConnector } from './lib/connector';
import { cleanup, onCleanup, PROFILE_DIR, progress, report, RESULTS_DIR, runId, shared, started, work } from './lib/context';
import { MEMORY_FILESYSTEMS, mountOf } from './lib/machine';
import { describeReclaim, reclaimSchemes } from './lib/reclaim';
import { PgServerCpu } from './lib/pg-cpu';
import { render } from './lib/render';
import { settings } from './lib/settings';
import { evaluateTargets } from './lib/targets';
import { memoryPhase } from './phases/memory';
import { nluPhase } from './phases/nlu';
import { scalePhase } from './phases/scale';
import { startupPhase } from './phases/startup';
import { throughputPhase } from './phases/throughput';

const phases: Record<string, () => Promise<void>> = { throughput: throughputPhase, nlu: nluPhase, scale: scalePhase, memory: memoryPhase, startup: startupPhase };

/** The disk the SQLite files are on, beside the one `./data` (the bot's default) is on. */
function noteDisk(): void {
  const here = mountOf(work);
  const data = mountOf(join(settings.botRoot, 'data'));
  report.disk = { workDir: work, fsType: here?.fsType, mountPoint: here?.mountPoint, dataFsType: data?.fsType, dataMountPoint: data?.mountPoint };
  if (here && MEMORY_FILESYSTEMS.has(here.fsType)) progress(`note: ${work} is on ${here.fsType} (memory), not a disk; pass --work-dir on the disk ./data uses`);
  else if (here && data && here.fsType !== data.fsType) progress(`note: SQLite files on ${here.fsType}, ./data on ${data.fsType}`);
}

/** What pages the page cache out on this machine however much memory is free (./lib/reclaim.ts). */
function noteReclaim(): void {
  const schemes = reclaimSchemes();
  report.reclaim = schemes;
  const line = describeReclaim(schemes);
  if (line) progress(`note: ${line}: a store the load does not keep touching is read from the disk again`);
}

/** The PostgreSQL server: its settings (autovacuum) and a watch over all its processes' CPU. */
async function watchPostgres(): Promise<void> {
  const needed = (settings.phases.includes('throughput') && settings.stores.includes('postgres')) || (settings.phases.includes('scale') && settings.scaleStore === 'postgres');
  if (!needed) return;
  const pg = await PgServerCpu.open(settings.pgUrl);
  shared.pg = pg;
  onCleanup(() => pg.close());
  report.postgres = pg.info;
  if (pg.info.autovacuum !== 'on') progress(`note: PostgreSQL runs with autovacuum = ${pg.info.autovacuum}; production runs with it on`);
  if (pg.info.cpuUnavailable) progress(`note: PostgreSQL's CPU cannot be measured: ${pg.info.cpuUnavailable}`);
}

try {
  if (loadavg()[0]! > 0.5 * cpus().length) {
    progress(`note: the machine is busy (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs); turns/s will be low, CPU ms/turn stays comparable`);
  }
  const connector = await startFakeConnector({ delayMs: settings.connectorDelayMs });
  shared.connector = connector;
  onCleanup(() => connector.close());
  if (!settings.keep) onCleanup(async () => rmSync(work, { recursive: true, force: true }));
  noteDisk();
  noteReclaim();
  await watchPostgres();
  for (const name of settings.phases) {
    const phase = phases[name];
    if (!phase) throw new Error(`unknown phase ${name} (${Object.keys(phases).join(', ')})`);
    await phase();
  }
  report.finishedAt = new Date().toISOString();
  report.seconds = Math.round((Date.now() - started) / 1000);
  if (settings.profile) report.profiles = readdirSync(PROFILE_DIR).filter((f) => f.startsWith(runId)).map((d) => join(PROFILE_DIR, d));
  report.targets = evaluateTargets(report as Parameters<typeof evaluateTargets>[0]);
  const text = render(report);
  report.table = text;
  const file = join(RESULTS_DIR, `bench-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${text}\n\nJSON: ${file}`);
} catch (err) {
  progress(`failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
