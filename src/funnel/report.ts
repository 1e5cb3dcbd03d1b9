/**
 * The funnel report: from funnel events (no personal data) to how many conversations reached each
 * step, where they ended, the deflection rate and the median number of turns, split by language,
 * channel and mode. Pure: events and the clock come in, numbers go out.
 *
 * A "conversation" here is one run of the entry flow: from a `started` event (first turn, or
 * start over) to the next one. A Teams chat that is started over three times counts three times.
 */
import { CASE_CLOSURE_STEPS } from '../../dialogs/case-closure/steps';
import { FOLLOWUP_STEPS } from '../../dialogs/followup/steps';
import { HANDOFF_STEPS } from '../../dialogs/handoff/steps';
import type { FunnelEvent } from '../storage/store';
import type { CaseReport } from './cases-report';
import type { HandoffReport } from './handoff-report';
import type { SatisfactionReport } from './satisfaction-report';

export const ENDINGS = [
  'resolved_spam_check',
  'resolved_edit',
  'redirected_admin',
  'forwarded_to_owner',
  'case_opened',
  'needs_case',
  'other',
  'abandoned',
  'in_progress',
] as const;
export type Ending = (typeof ENDINGS)[number];

/** Endings that count as resolved without a support case (the deflection rate's numerator). */
export const DEFLECTED: ReadonlySet<Ending> = new Set(['resolved_spam_check', 'resolved_edit', 'redirected_admin', 'forwarded_to_owner']);

/**
 * Which final step of a `resolved` outcome means "found it in Spam" rather than "the edit worked".
 * The provisioning-contact flow ends in `emailFound` (N1) or `changeConfirmed` (N6).
 */
export const RESOLUTION_BY_STEP: Readonly<Record<string, Ending>> = {
  emailFound: 'resolved_spam_check',
  changeConfirmed: 'resolved_edit',
};

export interface ReportOptions {
  /** Runs that started in [from, to) are counted. */
  from: Date;
  to: Date;
  /** The report's clock: a run without an ending idle since before `now - idleMs` is abandoned. */
  now: Date;
  idleMs: number;
  resolutionByStep?: Readonly<Record<string, Ending>>;
  /** Only the runs of this channel, language and/or mode (a manager's question about one of them). */
  only?: ReportFilters;
}

export interface ReportFilters {
  channel?: string;
  locale?: string;
  mode?: string;
}

export interface Run {
  channel: string;
  locale: string;
  mode: string;
  startedAt: string;
  lastAt: string;
  turns: number;
  /** Steps entered, in order of first entry. */
  steps: string[];
  ending: Ending;
  /** The final step for an outcome; the last step shown for abandoned and in-progress runs. */
  endStep: string;
}

export interface StepCount {
  step: string;
  conversations: number;
}

export interface Segment {
  conversations: number;
  reached: StepCount[];
  endings: Record<Ending, number>;
  /** Conversations with an ending, abandoned ones included (the deflection rate's denominator). */
  finished: number;
  deflected: number;
  /** deflected / finished, or null when nothing finished. */
  deflectionRate: number | null;
  /** Median turns of finished conversations, or null when nothing finished. */
  medianTurns: number | null;
  /** Where abandoned conversations were left: the step they last saw. */
  abandonedAt: StepCount[];
}

export interface FunnelReport {
  from: string;
  to: string;
  generatedAt: string;
  idleMinutes: number;
  /** The filters applied (empty: every conversation of the window). */
  filters: ReportFilters;
  total: Segment;
  byLocale: Record<string, Segment>;
  byChannel: Record<string, Segment>;
  byMode: Record<string, Segment>;
  /** Cases opened in the window (./cases-report.ts), when the report's reader adds them. */
  cases?: CaseReport;
  /** "Did this help?" and follow-ups (./satisfaction-report.ts), when the report's reader adds them. */
  satisfaction?: SatisfactionReport;
  /** Talk to a person (./handoff-report.ts), when the report's reader adds it. */
  handoff?: HandoffReport;
}

/**
 * Steps of flows the bot starts on its own later (is a closed case solved?) or beside the guide (talk
 * to a person): their events belong to no run of the guide, so a run that ended in a case still ended
 * there (./cases-report.ts and ./handoff-report.ts count them).
 */
const BESIDE_RUNS: ReadonlySet<string> = new Set([...CASE_CLOSURE_STEPS, ...FOLLOWUP_STEPS, ...HANDOFF_STEPS]);

const TERMINAL_OUTCOMES: Readonly<Record<string, Ending>> = {
  redirected_admin: 'redirected_admin',
  forwarded_to_owner: 'forwarded_to_owner',
  case_opened: 'case_opened',
  needs_case: 'needs_case',
};

/** Splits each conversation's events (in recorded order) into runs at every `started` event. */
export function splitRuns(events: readonly FunnelEvent[]): FunnelEvent[][] {
  const byConversation = new Map<string, FunnelEvent[]>();
  for (const e of events) {
    const list = byConversation.get(e.conversationKey) ?? [];
    list.push(e);
    byConversation.set(e.conversationKey, list);
  }
  const runs: FunnelEvent[][] = [];
  for (const list of byConversation.values()) {
    let current: FunnelEvent[] | undefined;
    for (const e of list) {
      if (e.kind === 'started' || !current) {
        current = [];
        runs.push(current);
      }
      current.push(e);
    }
  }
  return runs;
}

function classify(events: readonly FunnelEvent[], opts: ReportOptions): { ending: Ending; endStep: string } {
  const last = events[events.length - 1]!;
  const lastOutcomeIndex = events.findLastIndex((e) => e.kind === 'outcome');
  if (lastOutcomeIndex >= 0) {
    const outcome = events[lastOutcomeIndex]!;
    const value = outcome.value ?? '';
    const handedOn = events.slice(lastOutcomeIndex + 1).some((e) => e.kind === 'step_entered');
    if (value === 'resolved' && !handedOn) {
      const byStep = (opts.resolutionByStep ?? RESOLUTION_BY_STEP)[outcome.step];
      if (byStep) return { ending: byStep, endStep: outcome.step };
      const answeredAt = events.slice(0, lastOutcomeIndex).findLast((e) => e.kind === 'answer')?.step ?? '';
      return { ending: /spam/i.test(answeredAt) ? 'resolved_spam_check' : 'resolved_edit', endStep: outcome.step };
    }
    // An outcome followed by more steps was a hand-off (needs_case -> the case intake; agent details
    // -> the guide; an ending -> "open the case for the customer"): the run is still under way there.
    if (!handedOn) return { ending: TERMINAL_OUTCOMES[value] ?? 'other', endStep: outcome.step };
  }
  const idle = opts.now.getTime() - Date.parse(last.at) >= opts.idleMs;
  return { ending: idle ? 'abandoned' : 'in_progress', endStep: last.step };
}

export function summariseRun(events: readonly FunnelEvent[], opts: ReportOptions): Run {
  const first = events[0]!;
  const last = events[events.length - 1]!;
  const steps: string[] = [];
  for (const e of events) {
    // A step a flow finished at and handed over from (needsCase) is reached without being shown.
    if ((e.kind === 'step_entered' || e.kind === 'started' || e.kind === 'outcome') && !steps.includes(e.step)) steps.push(e.step);
  }
  return {
    channel: first.channel,
    // The language the conversation ended in: people switch early, if at all.
    locale: last.locale,
    mode: first.mode,
    startedAt: first.at,
    lastAt: last.at,
    turns: events.filter((e) => e.kind === 'turn').length,
    steps,
    ...classify(events, opts),
  };
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function counted(values: Iterable<string>): StepCount[] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .map(([step, conversations]) => ({ step, conversations }))
    .sort((a, b) => b.conversations - a.conversations || a.step.localeCompare(b.step));
}

export function segment(runs: readonly Run[]): Segment {
  const endings = Object.fromEntries(ENDINGS.map((e) => [e, 0])) as Record<Ending, number>;
  for (const r of runs) endings[r.ending] += 1;
  const finished = runs.filter((r) => r.ending !== 'in_progress');
  const deflected = finished.filter((r) => DEFLECTED.has(r.ending)).length;
  return {
    conversations: runs.length,
    reached: counted(runs.flatMap((r) => r.steps)),
    endings,
    finished: finished.length,
    deflected,
    deflectionRate: finished.length ? deflected / finished.length : null,
    medianTurns: median(finished.map((r) => r.turns)),
    abandonedAt: counted(runs.filter((r) => r.ending === 'abandoned').map((r) => r.endStep)),
  };
}

function splitBy(runs: readonly Run[], key: (r: Run) => string): Record<string, Segment> {
  const groups = new Map<string, Run[]>();
  for (const r of runs) {
    const k = key(r);
    const list = groups.get(k);
    if (list) list.push(r);
    else groups.set(k, [r]);
  }
  return Object.fromEntries([...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, segment(v)]));
}

/** Builds the report from the events of every conversation that may have started in the window. */
export function buildReport(events: readonly FunnelEvent[], opts: ReportOptions): FunnelReport {
  const from = opts.from.getTime();
  const to = opts.to.getTime();
  const only = Object.fromEntries(Object.entries(opts.only ?? {}).filter(([, v]) => v !== undefined)) as ReportFilters;
  const runs = splitRuns(events.filter((e) => !BESIDE_RUNS.has(e.step)))
    // A run must begin with `started` inside the window: a tail of an older run is not a conversation.
    .filter((r) => r[0]!.kind === 'started')
    .map((r) => summariseRun(r, opts))
    .filter((r) => {
      const at = Date.parse(r.startedAt);
      return at >= from && at < to;
    })
    .filter((r) => Object.entries(only).every(([key, value]) => r[key as keyof ReportFilters] === value));
  return {
    from: opts.from.toISOString(),
    to: opts.to.toISOString(),
    generatedAt: opts.now.toISOString(),
    idleMinutes: opts.idleMs / 60_000,
    filters: only,
    total: segment(runs),
    byLocale: splitBy(runs, (r) => r.locale),
    byChannel: splitBy(runs, (r) => r.channel),
    byMode: splitBy(runs, (r) => r.mode),
  };
}
