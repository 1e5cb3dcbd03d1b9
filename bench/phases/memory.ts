/**
 * Memory: the bot's RSS idle after start, idle after a warm-up, and after serving many full
 * conversations (walks to an outcome, connector delivery) and 30 s without traffic, on a SQLite file
 * in the run's work directory (the disk ./data is on). Once per start mode (--start-modes): tsx as
 * `npm start` runs it today, and compiled to JavaScript.
 */
import { botLogFile, liveHeapAfterFullGcs, newStorage, startBot, stopBot } from '../lib/bots';
import { progress, report } from '../lib/context';
import { load } from '../lib/measure';
import { heapFromMetrics } from '../lib/processes';
import { settings, type StartMode } from '../lib/settings';
import { round } from '../lib/stats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long the bot idles before an "idle" reading. */
const SETTLE_SECONDS = 30;

async function measureMode(mode: StartMode): Promise<Record<string, unknown>> {
  const storage = await newStorage('sqlite', `memory-${mode}`);
  const label = `memory-sqlite-${mode}`;
  // --trace-gc: the log then shows the live heap after every full GC (no GC can be forced from outside).
  const bot = await startBot(storage, label, { extraFlags: ['--trace-gc'], mode });
  await sleep(2000);
  const idleCold = bot.rssMiB();
  const heapCold = await heapFromMetrics(bot.url);
  const warmup = Math.min(1000, settings.memoryConversations);
  progress(`memory (${mode}): RSS idle after start ${idleCold.toFixed(1)} MiB; warming up with ${warmup} conversations`);
  const walk = { maxTurns: settings.memoryTurns };
  await load(bot, { conversations: warmup, ...walk });
  // Idle as long as before the "after" reading: both readings are of a bot at rest (whatever V8 or
  // the bot's idle collection gives back when traffic stops counts on both sides).
  await sleep(SETTLE_SECONDS * 1000);
  const idleWarm = bot.rssMiB();
  const heapWarm = await heapFromMetrics(bot.url);
  progress(`memory (${mode}): RSS idle after warm-up ${idleWarm.toFixed(1)} MiB; serving ${settings.memoryConversations} conversations`);
  const samples: { conversations: number; turns: number; rssMiB: number; heapUsedMiB?: number; heapTotalMiB?: number }[] = [];
  const chunk = Math.max(Math.min(1000, settings.memoryConversations), Math.round(settings.memoryConversations / 10));
  let served = 0;
  let turns = 0;
  let peak = idleWarm;
  while (served < settings.memoryConversations) {
    const n = Math.min(chunk, settings.memoryConversations - served);
    const res = await load(bot, { conversations: n, ...walk });
    served += res.conversationsFinished;
    turns += res.turns;
    const rss = bot.rssMiB();
    peak = Math.max(peak, rss);
    const heap = await heapFromMetrics(bot.url);
    samples.push({ conversations: served, turns, rssMiB: round(rss, 1), ...(heap ? { heapUsedMiB: round(heap.heapUsedMiB, 1), heapTotalMiB: round(heap.heapTotalMiB, 1) } : {}) });
    progress(`  ${served} conversations (${turns} turns) served: RSS ${rss.toFixed(1)} MiB, heap used ${heap?.heapUsedMiB.toFixed(1) ?? '?'} of ${heap?.heapTotalMiB.toFixed(1) ?? '?'} MiB (${res.turnsPerSecond.toFixed(0)} turns/s)`);
  }
  const rightAfter = bot.rssMiB();
  // V8 gives memory back only once the process has been idle a while (its memory reducer), so the
  // "after" reading is taken after 30 s without traffic, as an operator would see it.
  const settleSamples: { afterSeconds: number; rssMiB: number }[] = [];
  for (let s = 5; s <= SETTLE_SECONDS; s += 5) {
    await sleep(5000);
    settleSamples.push({ afterSeconds: s, rssMiB: round(bot.rssMiB(), 1) });
  }
  const settled = bot.rssMiB();
  const heapSettled = await heapFromMetrics(bot.url);
  await stopBot(bot);
  const live = liveHeapAfterFullGcs(botLogFile(label));
  const quarter = Math.max(1, Math.floor(live.length / 4));
  const liveHeap = live.length
    ? { fullGcs: live.length, firstQuarterMaxMB: Math.max(...live.slice(0, quarter)), lastQuarterMaxMB: Math.max(...live.slice(-quarter)), lastMB: live.at(-1) }
    : undefined;
  if (liveHeap) progress(`memory (${mode}): live heap after full GCs: first quarter max ${liveHeap.firstQuarterMaxMB} MB, last quarter max ${liveHeap.lastQuarterMaxMB} MB (${live.length} full GCs)`);
  return {
    startMode: mode,
    idleAfterStartMiB: round(idleCold, 1),
    idleAfterWarmupMiB: round(idleWarm, 1),
    afterServedMiB: round(rightAfter, 1),
    afterServedSettledMiB: round(settled, 1),
    peakMiB: round(peak, 1),
    conversationsServed: served,
    turnsServed: turns,
    growthOverWarmIdleMiB: round(settled - idleWarm, 1),
    heap: { afterStart: heapCold, afterWarmup: heapWarm, afterServedSettled: heapSettled },
    settleSamples,
    liveHeapAfterFullGc: liveHeap,
    samples,
  };
}

export async function memoryPhase(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const mode of settings.startModes) rows.push(await measureMode(mode));
  report.memory = { turnsPerConversationAtMost: settings.memoryTurns, delivery: settings.delivery, rows };
}
