/**
 * Stored conversations: the bot (SQLite unless --scale-store postgres) with 1k / 100k / 1M stored
 * conversations. The first level's conversations are served by the bot (the templates); the next
 * levels are reached by copying them row for row (../lib/seed.ts). At every level a share of the
 * turns (--returning-share, default 0.5) are returning people: one turn each on a stored
 * conversation chosen at random across the whole stored set (copies included, so a cold read), a
 * press of what its last card offered; the rest are new conversations. Both are reported.
 */
import { newStorage, startBot, stopBot } from '../lib/bots';
import { progress, report, runId } from '../lib/context';
import { load, summarise, type Measured } from '../lib/measure';
import { StoredConversations } from '../lib/returning';
import { replicateConversations, storedBytes } from '../lib/seed';
import { settings } from '../lib/settings';
import { median, round } from '../lib/stats';
import type { WalkedConversation } from '../lib/walker';

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

export async function scalePhase(): Promise<void> {
  const storage = await newStorage(settings.scaleStore, `scale-${settings.scaleStore}`);
  const prefix = `bench-${runId}-`;
  const stored = new StoredConversations(prefix);
  // Every conversation the walker leaves is stored by the bot: a person may come back to it.
  const onLeft = (c: WalkedConversation) => {
    if (!c.returning && c.turns > 0 && !c.done) stored.addServed(c.id, c.last);
  };
  const returning = settings.returningShare > 0 ? { share: settings.returningShare, stored } : undefined;
  const levels = [...settings.scale].sort((a, b) => a - b);
  const rows: Record<string, unknown>[] = [];
  let copies = 0;
  let previous: { bytes: number; conversations: number } | undefined;
  for (const [i, level] of levels.entries()) {
    if (i === 0) {
      // The templates: real conversations served by the bot, each walked to an outcome.
      const bot = await startBot(storage, `scale-${settings.scaleStore}`);
      progress(`scale: serving ${level} conversations (the templates)`);
      await load(bot, { conversations: level, onLeft, storage });
      await stopBot(bot);
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
    const bot = await startBot(storage, `scale-${settings.scaleStore}`);
    await load(bot, { seconds: settings.warmup, storage, returning, onLeft });
    const results: Measured[] = [];
    for (let r = 0; r < settings.rounds; r++) {
      const res = await load(bot, { seconds: settings.seconds, storage, returning, onLeft });
      results.push(res);
      progress(
        `  ${size.conversations} stored, round ${r + 1}: ${res.turnsPerSecond.toFixed(0)} turns/s  p99 ${res.latencyMs.p99.toFixed(1)} ms (new ${res.fresh.latencyMs.p99.toFixed(1)}, returning ${res.returning?.latencyMs.p99.toFixed(1) ?? '-'} over ${res.returning?.turns ?? 0} turns)`,
      );
    }
    await stopBot(bot);
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
    });
    previous = size;
  }
  const first = rows[0] as { turnsPerSecond: number } | undefined;
  for (const row of rows) (row as Record<string, unknown>).relativeToFirst = first ? round((row as { turnsPerSecond: number }).turnsPerSecond / first.turnsPerSecond, 3) : undefined;
  report.scale = { store: settings.scaleStore, returningShare: settings.returningShare, rows };
}
