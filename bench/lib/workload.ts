/** What the recorded walks every target replays look like (reported once per throughput phase). */
import type { StepKind, WalkScript } from './walker';

export interface WorkloadShape {
  walks: number;
  /** Turns per conversation: mean and the spread. */
  turnsPerConversation: { mean: number; min: number; max: number };
  /** Openers by activity type. */
  openers: Record<string, number>;
  /** Share of all turns by kind (open, press, form, typed). */
  turnShares: Partial<Record<StepKind, number>>;
  distinctPaths: number;
}

export function describeWorkload(pool: readonly WalkScript[]): WorkloadShape {
  const lengths = pool.map((s) => s.steps.length);
  const turns = lengths.reduce((a, b) => a + b, 0);
  const openers: Record<string, number> = {};
  const kinds: Partial<Record<StepKind, number>> = {};
  for (const s of pool) {
    const opener = s.steps[0]?.type ?? 'none';
    openers[opener] = (openers[opener] ?? 0) + 1;
    for (const step of s.steps) kinds[step.kind] = (kinds[step.kind] ?? 0) + 1;
  }
  const share = (v: number) => Math.round((v / Math.max(1, turns)) * 1000) / 1000;
  return {
    walks: pool.length,
    turnsPerConversation: { mean: Math.round((turns / Math.max(1, pool.length)) * 100) / 100, min: Math.min(...lengths), max: Math.max(...lengths) },
    openers,
    turnShares: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, share(v)])),
    distinctPaths: new Set(pool.map((s) => s.steps.map((x) => x.key ?? x.kind).join('>'))).size,
  };
}
