/**
 * Stored conversations: the bot (SQLite unless --scale-store postgres) with 1k / 100k / 1M stored
 * conversations. The first level's conversations are served by the bot (the templates); the next
 * levels are reached by copying them row for row (../lib/seed.ts). At every level a share of the
 * turns (--returning-share, default 0.5) are returning people: one turn each on a stored
 * conversation chosen at random across the whole stored set (copies included, so a cold read), a
 * press of what its last card offered; the rest are new conversations. Both are reported.
 *
 * The first level's store is also kept aside before it grows, and at every level a fresh copy of it
 * is served by a second bot in the level's rounds, alternating with the level's bot: each level is
 * compared with the first level (plus what its own rounds add) in the same minutes of the machine
 * (`pairedRelativeToFirst`, per round, as the throughput phase pairs each bot with the echo bot).
 * Measured one after the other, minutes apart, the 1M level of one run came out at 0.59 of 1k and of
 * another at 1.2, the bench's own client slowing as much as the bot. At the first level the pair is
 * two copies of one store: how far apart two equal bots come out.
 */
import { newStorage, startBot, stopBot, type Storage } from '../lib/bots';
import { progress, report, runId } from '../lib/context';
import { load, summarise, type Measured } from '../lib/measure';
import { StoredConversations } from '../lib/returning';
import { readAheadFromMetrics } from '../lib/processes';
import { pagedOutBytes } from '../lib/reclaim';
import { replicateConversations, storedBytes } from '../lib/seed';
import { settings } from '../lib/settings';
import { median, round } from '../lib/stats';
import type { WalkedConversation } from '../lib/walker';

type ReadAhead = Awaited<ReturnType<typeof readAheadFromMetrics>>;

/** What the read-ahead did between two readings, per turn of the rounds between them. */
function perTurn(before: ReadAhead, after: ReadAhead, results: Measured[]) {
  if (!before || !after) return undefined;
  const turns = Math.max(1, results.reduce((n, r) => n + r.turns, 0));
  return {
    warmed: round((after.warmed - before.warmed) / turns, 3),
    overdue: round((after.overdue - before.overdue) / turns, 3),
    recent: round((after.recent - before.recent) / turns, 3),
    // The mean wait of a warm-up, ms.
    waitMs: round(((after.waitSeconds - before.waitSeconds) * 1000) / Math.max(1, after.warmed - before.warmed + after.overdue - before.overdue), 2),
  };
}

/** Medians of the rounds for the new and the returning turns apart. */
function groups(results: Measured[]) {
  const m = (f: (r: Measured) => number | undefined, digits = 2) => round(median(results.map(f).filter((v): v is number => v !== undefined)), digits);
  const kinds: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.returning?.kinds ?? {})) kinds[k] = (kinds[k] ?? 0) + (v ?? 0);
  return {
    fresh: { p50: m((r) => r.fresh.latencyMs.p50), p95: m((r) => r.fresh.latencyMs.p95), p99: m((r) => r.fresh.latencyMs.p99) },
    returning: {
      share: m((r) => (r.returning ? r.returning.turns / Math.max(1, r.returning.turns + r.fresh.turns) : undefined), 3),
      p50: m((r) => r.returning?.latencyMs.p50),
      p95: m((r) => r.returning?.latencyMs.p95),
      p99: m((r) => r.returning?.latencyMs.p99),
      kinds,
    },
  };
}

/** A bot's store and the conversations the walker knows are stored there. */
interface Served {
  storage: Storage;
  stored: StoredConversations;
}

/** How the walker goes to a store: new conversations left there are remembered, returning people picked from it. */
function walkTo(s: Served) {
  return {
    storage: s.storage,
    returning: settings.returningShare > 0 ? { share: settings.returningShare, stored: s.stored } : undefined,
    // Every conversation the walker leaves is stored by the bot: a person may come back to it.
    onLeft: (c: WalkedConversation) => {
      if (!c.returning && c.turns > 0 && !c.done) s.stored.addServed(c.id, c.last);
    },
  };
}

export async function scalePhase(): Promise<void> {
  const storage = await newStorage(settings.scaleStore, `scale-${settings.scaleStore}`);
  const prefix = `bench-${runId}-`;
  const stored = new StoredConversations(prefix);
  const main: Served = { storage, stored };
  let firstLevel: Served | undefined;
  const levels = [...settings.scale].sort((a, b) => a - b);
  const rows: Record<string, unknown>[] = [];
  let copies = 0;
  let previous: { bytes: number; conversations: number } | undefined;
  for (const [i, level] of levels.entries()) {
    if (i === 0) {
      // The templates: real conversations served by the bot, each walked to an outcome.
      const bot = await startBot(storage, `scale-${settings.scaleStore}`);
      progress(`scale: serving ${level} conversations (the templates)`);
      await load(bot, { conversations: level, ...walkTo(main) });
      await stopBot(bot);
      // Never served: each level copies it again, so the pair stays at the first level's size.
      firstLevel = { storage: await newStorage(settings.scaleStore, `scale-first-kept-${settings.scaleStore}`, storage), stored: stored.copy() };
    } else {
      progress(`scale: copying stored conversations up to ${level}`);
      const seeded = await replicateConversations(storage.seed, prefix, level, copies, (p) => progress(`  ${p.conversations} stored`));
      stored.addCopies(seeded.firstCopy, seeded.copiesMade, seeded.templates);
      copies = seeded.copiesMade;
      progress(`  ${seeded.conversations} stored in ${seeded.seconds.toFixed(0)} s (tables copied: ${seeded.copiedTables.join(', ')})`);
      if (seeded.skippedTables.length) progress(`  not copied (not keyed by conversation): ${seeded.skippedTables.join(', ')}`);
    }
    const size = await storedBytes(storage.seed);
    if (Math.abs(size.conversations - stored.size) > Math.max(50, 0.01 * size.conversations)) {
      progress(`  note: ${size.conversations} stored, the walker knows ${stored.size} (returning people go only to those)`);
    }
    const first: Served = { storage: await newStorage(settings.scaleStore, `scale-first-${settings.scaleStore}`, firstLevel!.storage), stored: firstLevel!.stored.copy() };
    const bot = await startBot(storage, `scale-${settings.scaleStore}`);
    const firstBot = await startBot(first.storage, `scale-first-${settings.scaleStore}`);
    const firstStored = first.stored.size;
    await load(bot, { seconds: settings.warmup, ...walkTo(main) });
    await load(firstBot, { seconds: settings.warmup, ...walkTo(first) });
    const results: Measured[] = [];
    const firstResults: Measured[] = [];
    const pagedOutBefore = pagedOutBytes();
    const readAheadBefore = await Promise.all([readAheadFromMetrics(bot.url), readAheadFromMetrics(firstBot.url)]);
    for (let r = 0; r < settings.rounds; r++) {
      // Alternating which goes first, so neither always runs right after the other.
      for (const which of r % 2 === 0 ? ['level', 'first'] : ['first', 'level']) {
        const res = await load(which === 'level' ? bot : firstBot, { seconds: settings.seconds, ...walkTo(which === 'level' ? main : first) });
        (which === 'level' ? results : firstResults).push(res);
        progress(
          `  ${which === 'level' ? `${size.conversations} stored` : `first level's copy (${firstStored})`}, round ${r + 1}: ${res.turnsPerSecond.toFixed(0)} turns/s  p99 ${res.latencyMs.p99.toFixed(1)} ms (new ${res.fresh.latencyMs.p99.toFixed(1)}, returning ${res.returning?.latencyMs.p99.toFixed(1) ?? '-'} over ${res.returning?.turns ?? 0} turns)`,
        );
      }
    }
    const pagedOutAfter = pagedOutBytes();
    const readAheadAfter = await Promise.all([readAheadFromMetrics(bot.url), readAheadFromMetrics(firstBot.url)]);
    await stopBot(bot);
    await stopBot(firstBot);
    const paired = summarise(firstResults);
    const marginal = previous && size.conversations > previous.conversations ? (size.bytes - previous.bytes) / (size.conversations - previous.conversations) : size.bytes / size.conversations;
    rows.push({
      level,
      storedAtStart: size.conversations,
      storeBytes: size.bytes,
      bytesPerConversation: Math.round(marginal),
      // Where a stored conversation's bytes go (tables with their indexes), per conversation.
      bytesPerConversationByTable: Object.fromEntries(Object.entries(size.byTable).map(([t, b]) => [t, Math.round(b / Math.max(1, size.conversations))])),
      ...summarise(results),
      ...groups(results),
      // The first level's copy served by its own bot in the same rounds, and this level against it round by round.
      pairedFirst: { storedAtStart: firstStored, turnsPerSecond: paired.turnsPerSecond, p99: paired.p99, cpuMsPerTurn: paired.cpuMsPerTurn, loopCpuMsPerTurn: paired.loopCpuMsPerTurn, diskReadKBPerTurn: paired.diskReadKBPerTurn, loopDiskReadKBPerTurn: paired.loopDiskReadKBPerTurn },
      // The SQLite read-ahead in the rounds, per turn: warmed, overdue (the turn stopped waiting), recent (not needed).
      readAheadPerTurn: perTurn(readAheadBefore[0], readAheadAfter[0], results),
      pairedReadAheadPerTurn: perTurn(readAheadBefore[1], readAheadAfter[1], firstResults),
      pairedRelativeToFirst: round(median(results.map((res, r) => res.turnsPerSecond / firstResults[r]!.turnsPerSecond)), 3),
      // What the machine's proactive reclaim paged out during both bots' rounds (../lib/reclaim.ts).
      ...(pagedOutBefore !== undefined && pagedOutAfter !== undefined ? { pagedOutMBDuringRounds: round((pagedOutAfter - pagedOutBefore) / 1e6, 0) } : {}),
    });
    previous = size;
  }
  // Against the first level's own rounds, minutes earlier (before the pairing, the only figure).
  const firstRow = rows[0] as { turnsPerSecond: number } | undefined;
  for (const row of rows) (row as Record<string, unknown>).relativeToFirst = firstRow ? round((row as { turnsPerSecond: number }).turnsPerSecond / firstRow.turnsPerSecond, 3) : undefined;
  report.scale = { store: settings.scaleStore, returningShare: settings.returningShare, rows };
}
