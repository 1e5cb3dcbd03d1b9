/**
 * The cases part of the funnel report (issue 21 item 6): the cases opened in the window by where they
 * stand now (the support system's latest status, else how far their delivery got), how long support
 * took to answer first and to resolve (median and 90th percentile), and what people answered when
 * asked whether a closed case solved their problem (dialogs/case-closure/). Pure: facts in, numbers out.
 */

/** One case as the report needs it: no personal data. */
export interface CaseFacts {
  createdAt: string;
  /** How far its delivery got (`pending`, `delivered`, `failed`, `manual`). */
  delivery: string;
  /** Its status updates from the support system, oldest first. */
  updates: { status: string; at: string }[];
}

/** The answers to "is it solved?" given in the window, and how often it was asked. */
export interface ClosureAnswers {
  asked: number;
  solved: number;
  notSolved: number;
  reopen: number;
  newCase: number;
}

export interface Durations {
  /** Cases the duration is known for. */
  cases: number;
  medianMinutes: number | null;
  p90Minutes: number | null;
}

export interface CaseReport {
  opened: number;
  /** Status name → cases: the latest update's status, or `delivery:<status>` without any update. */
  byStatus: Record<string, number>;
  firstResponse: Durations;
  resolution: Durations;
  closure: ClosureAnswers;
}

const CLOSING = new Set(['resolved', 'closed']);

/** The nearest-rank percentile `p` (0-1) of `values`, or null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

function durations(minutes: number[]): Durations {
  const sorted = [...minutes].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length === 0 ? null : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { cases: sorted.length, medianMinutes: median, p90Minutes: percentile(sorted, 0.9) };
}

const minutesBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 60_000;

export function buildCaseReport(cases: readonly CaseFacts[], closure: ClosureAnswers): CaseReport {
  const byStatus: Record<string, number> = {};
  const firstResponse: number[] = [];
  const resolution: number[] = [];
  for (const c of cases) {
    const status = c.updates.at(-1)?.status ?? `delivery:${c.delivery}`;
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    const first = c.updates[0];
    if (first) firstResponse.push(minutesBetween(c.createdAt, first.at));
    const resolved = c.updates.find((u) => CLOSING.has(u.status));
    if (resolved) resolution.push(minutesBetween(c.createdAt, resolved.at));
  }
  const ordered = Object.fromEntries(Object.entries(byStatus).sort(([a], [b]) => a.localeCompare(b)));
  return { opened: cases.length, byStatus: ordered, firstResponse: durations(firstResponse), resolution: durations(resolution), closure };
}
