/**
 * Throughput: N concurrent conversations against the reference echo bot, the bot on SQLite and the
 * bot on PostgreSQL (and a bot from --compare-root), alternating for several rounds; medians of the
 * rounds, and ratios paired per round (each bot round against the reference round beside it).
 *
 * One workload for all (issue 19): walks are recorded on the first bot (which warms it up), and every
 * target replays the same list of walks in the same order, the echo bot verbatim.
 */
import { newStorage, startBot, startReference, stopBot, type Storage } from '../lib/bots';
import { progress, report, shared } from '../lib/context';
import { load, roundLine, summarise, type Measured, type What } from '../lib/measure';
import { pgCpuDelta } from '../lib/pg-cpu';
import type { Running } from '../lib/processes';
import { settings } from '../lib/settings';
import { median, round } from '../lib/stats';
import type { WalkScript } from '../lib/walker';
import { describeWorkload } from '../lib/workload';

interface Target {
  label: string;
  bot: Running;
  storage?: Storage;
  /** An echo bot: gets the recorded activities as they are. */
  echo?: boolean;
}

export async function throughputPhase(): Promise<void> {
  progress(`throughput: ${settings.connections} concurrent conversations, ${settings.rounds} round(s) × ${settings.seconds} s per target, delivery ${settings.delivery}`);
  const reference = await startReference();
  const bots: Target[] = [];
  for (const kind of settings.stores) {
    const storage = await newStorage(kind, `throughput-${kind}`);
    bots.push({ label: `bot-${kind}`, bot: await startBot(storage, `bot-${kind}`), storage });
  }
  if (settings.compareRoot) {
    const storage = await newStorage('sqlite', 'throughput-compare');
    bots.push({ label: 'bot-sqlite@compare', bot: await startBot(storage, 'bot-sqlite-compare', { root: settings.compareRoot }), storage });
  }
  if (!bots.length) throw new Error('throughput: no bot to measure (--stores is empty)');
  if (settings.durableEcho) {
    const storage = await newStorage('sqlite', 'throughput-durable-echo');
    bots.push({ label: 'reference-durable (echo + SQLite per turn)', bot: await startReference({ sqlite: storage }), echo: true });
  }

  // PostgreSQL over the whole phase too: a checkpoint or a WAL flush may come due in another target's round.
  const pgBefore = await shared.pg?.snapshot();
  const turnsOf = new Map<string, number>();
  const measure = async (t: Target, what: What) => {
    const res = await load(t.bot, { ...what, storage: t.storage });
    turnsOf.set(t.label, (turnsOf.get(t.label) ?? 0) + res.turns);
    return res;
  };

  // The walks of the first conversations started, in that order: the first to *finish* would be the short ones.
  const finished: WalkScript[] = [];
  progress(`  recording ${settings.walks} walks on ${bots[0]!.label} (its warm-up)`);
  const recorded = await measure(bots[0]!, { conversations: settings.walks + settings.connections, record: finished });
  const pool = finished.sort((a, b) => (a.n ?? 0) - (b.n ?? 0)).slice(0, settings.walks);
  if (!pool.length) throw new Error(`throughput: no walk could be recorded (${recorded.firstErrors.join(' | ')})`);
  const workload = describeWorkload(pool);
  progress(`  ${pool.length} walks, ${workload.turnsPerConversation.mean} turns each on average, ${workload.distinctPaths} distinct paths`);
  const scripts = (t: Target) => ({ pool, mode: t.bot === reference || t.echo ? ('verbatim' as const) : ('follow' as const) });

  const targets: Target[] = [{ label: 'reference', bot: reference }, ...bots];
  const results = new Map<string, Measured[]>(targets.map((t) => [t.label, []]));
  const paths = new Map<string, { distinct: number; examples: string[]; endings: Record<string, number> }>();
  for (const t of targets.slice(1).concat(targets[0]!)) {
    if (t === bots[0]) continue; // warmed up by the recording
    progress(`  warm-up ${t.label} (${settings.warmup} s)`);
    await measure(t, { seconds: settings.warmup, scripts: scripts(t) });
  }
  for (let r = 0; r < settings.rounds; r++) {
    // Rotate the order so no target always runs first (or right after the heaviest one).
    const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
    for (const t of order) {
      const res = await measure(t, { seconds: settings.seconds, scripts: scripts(t) });
      results.get(t.label)!.push(res);
      if (t.bot !== reference && !t.echo) paths.set(t.label, { distinct: res.distinctPaths, examples: res.examplePaths, endings: res.endings });
      progress(`  round ${r + 1}/${settings.rounds} ${roundLine(t.label, res)}`);
    }
  }
  const pgAfter = await shared.pg?.snapshot();
  const refResults = results.get('reference')!;
  const ref = summarise(refResults);
  const rows: Record<string, unknown>[] = [{ target: 'reference (botbuilder echo)', ...ref, ratio: 1, p99Ratio: 1 }];
  for (const b of bots) {
    const mine = results.get(b.label)!;
    const s = summarise(mine);
    // Paired per round: each bot round against the reference round run next to it.
    const ratios = mine.map((res, i) => res.turnsPerSecond / refResults[i]!.turnsPerSecond);
    const p99Ratios = mine.map((res, i) => res.latencyMs.p99 / refResults[i]!.latencyMs.p99);
    // PostgreSQL's CPU from the phase's start to its end over all this bot's turns (recording and
    // warm-up included): what came due outside its rounds is counted too. The larger figure is used.
    const phaseDb = pgBefore && pgAfter && b.storage?.database ? pgCpuDelta(pgBefore, pgAfter, b.storage.database).totalMs / Math.max(1, turnsOf.get(b.label) ?? 0) : undefined;
    const db = Math.max(s.dbCpuMsPerTurn ?? 0, phaseDb ?? 0);
    // CPU per turn: the reference's cost over the bot's (its process; on PostgreSQL also every server process).
    const cpuRatio = ref.cpuMsPerTurn / (s.cpuMsPerTurn + db);
    const offScript = mine.reduce((n, r) => n + r.offScriptTurns, 0) / Math.max(1, mine.reduce((n, r) => n + r.turns, 0));
    rows.push({
      target: b.label,
      ...s,
      ratio: round(median(ratios), 2),
      p99Ratio: round(median(p99Ratios), 2),
      cpuRatio: round(cpuRatio, 2),
      ...(phaseDb !== undefined ? { dbCpuMsPerTurnWholePhase: round(phaseDb, 3) } : {}),
      offScriptShare: round(offScript, 3),
      paths: paths.get(b.label),
    });
  }
  report.throughput = {
    delivery: settings.delivery,
    connections: settings.connections,
    rounds: settings.rounds,
    secondsPerRound: settings.seconds,
    workload,
    rows,
  };
  for (const b of bots) await (b.echo ? b.bot.stop() : stopBot(b.bot));
  await reference.stop();
}
