/**
 * The targets of issue 19, judged from one run's report (same run, medians, connector delivery).
 * A target is `n/a` when the run did not measure what it speaks of (another delivery, fewer stored
 * conversations, a shorter memory run): the figure is still shown.
 */

export interface TargetRow {
  target: string;
  result: string;
  met: 'yes' | 'no' | 'n/a';
}

interface ThroughputRow {
  target: string;
  ratio?: number;
  p99Ratio?: number;
  cpuRatio?: number;
  p99?: number;
}
interface Report {
  throughput?: { delivery?: string; rows: ThroughputRow[] };
  scale?: { returningShare?: number; rows: { storedAtStart: number; relativeToFirst?: number; pairedRelativeToFirst?: number; returning?: { share?: number } }[] };
  memory?: { turnsPerConversationAtMost?: number; rows: { startMode: string; conversationsServed: number; growthOverWarmIdleMiB: number; idleAfterWarmupMiB: number; afterServedSettledMiB: number }[] };
  startup?: { rows: { startMode: string; npmStartMs: number }[] };
  settings?: { maxTurns?: number };
}

export const TARGETS = {
  sqliteRatio: 0.9,
  postgresRatio: 0.75,
  p99Factor: 1.25,
  scaleWithin: 0.1,
  scaleLevels: [1000, 1_000_000] as const,
  returningShare: 0.5,
  memoryGrowthMiB: 30,
  memoryConversations: 100_000,
  startupMs: 1000,
};

const judge = (ok: boolean, applies: boolean): TargetRow['met'] => (!applies ? 'n/a' : ok ? 'yes' : 'no');
const fmt = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '?' : v.toFixed(digits));

export function evaluateTargets(report: Report): TargetRow[] {
  const out: TargetRow[] = [];
  const t = report.throughput;
  if (t) {
    const connector = t.delivery !== 'expectReplies';
    const why = connector ? '' : ' (expectReplies run: the targets are for connector delivery)';
    const sqlite = t.rows.find((r) => r.target === 'bot-sqlite');
    const pg = t.rows.find((r) => r.target === 'bot-postgres');
    if (sqlite) {
      out.push({ target: `SQLite throughput ≥ ${TARGETS.sqliteRatio} of the echo bot`, result: `${fmt(sqlite.ratio)}${why}`, met: judge((sqlite.ratio ?? 0) >= TARGETS.sqliteRatio, connector) });
    }
    if (pg) {
      // Both ways of counting: turns/s on this machine (the server shares it), and CPU per turn with every server process counted.
      const worst = Math.min(pg.ratio ?? 0, pg.cpuRatio ?? 0);
      out.push({
        target: `PostgreSQL ≥ ${TARGETS.postgresRatio} of the echo bot (turns/s, and CPU with all server processes)`,
        result: `turns/s ${fmt(pg.ratio)}, CPU ${fmt(pg.cpuRatio)}${why}`,
        met: judge(worst >= TARGETS.postgresRatio, connector && pg.cpuRatio !== undefined),
      });
    }
    for (const row of [sqlite, pg]) {
      if (!row) continue;
      const store = row === sqlite ? 'SQLite' : 'PostgreSQL';
      out.push({ target: `${store} p99 ≤ ${TARGETS.p99Factor} × echo p99`, result: `${fmt(row.p99Ratio)} × (${fmt(row.p99, 1)} ms)${why}`, met: judge((row.p99Ratio ?? Infinity) <= TARGETS.p99Factor, connector) });
    }
  }
  const s = report.scale;
  if (s && s.rows.length > 1) {
    const first = s.rows[0]!;
    const last = s.rows.at(-1)!;
    const [low, high] = TARGETS.scaleLevels;
    const levelsOk = first.storedAtStart <= low * 1.5 && last.storedAtStart >= high;
    const shareOk = (s.returningShare ?? 0) >= TARGETS.returningShare;
    const notes = [!levelsOk ? `${first.storedAtStart} → ${last.storedAtStart} stored, not 1k → 1M` : '', !shareOk ? `returning share ${s.returningShare}` : ''].filter(Boolean).join('; ');
    // In the same rounds as a copy of the first level's store where the run has it (../phases/scale.ts).
    const paired = last.pairedRelativeToFirst;
    const ratio = paired ?? last.relativeToFirst;
    const how = paired !== undefined ? ` of the first level's copy in the same rounds (${fmt(last.relativeToFirst, 3)} of the first level's own rounds, minutes before)` : ' of the first level';
    out.push({
      target: `1M stored (${TARGETS.returningShare * 100} % returning) within ${TARGETS.scaleWithin * 100} % of 1k`,
      result: `${fmt(ratio, 3)}${how}${notes ? ` (${notes})` : ''}`,
      met: judge((ratio ?? 0) >= 1 - TARGETS.scaleWithin, levelsOk && shareOk),
    });
  }
  const m = report.memory;
  if (m) {
    const full = (m.turnsPerConversationAtMost ?? 0) >= (report.settings?.maxTurns ?? 15);
    for (const r of m.rows) {
      const enough = r.conversationsServed >= TARGETS.memoryConversations;
      const notes = [!enough ? `${r.conversationsServed} conversations` : '', !full ? 'not full walks' : ''].filter(Boolean).join('; ');
      out.push({
        target: `RSS after 100k full conversations + 30 s idle ≤ idle after warm-up + ${TARGETS.memoryGrowthMiB} MiB (${r.startMode})`,
        result: `${r.growthOverWarmIdleMiB >= 0 ? '+' : ''}${fmt(r.growthOverWarmIdleMiB, 1)} MiB (${fmt(r.idleAfterWarmupMiB, 1)} → ${fmt(r.afterServedSettledMiB, 1)})${notes ? ` (${notes})` : ''}`,
        met: judge(r.growthOverWarmIdleMiB <= TARGETS.memoryGrowthMiB, enough && full),
      });
    }
  }
  for (const r of report.startup?.rows ?? []) {
    out.push({ target: `npm start to the first 200 from /healthz ≤ ${TARGETS.startupMs / 1000} s (${r.startMode})`, result: `${(r.npmStartMs / 1000).toFixed(2)} s`, met: judge(r.npmStartMs <= TARGETS.startupMs, true) });
  }
  return out;
}
