/**
 * The cases part of the report (./cases-report.ts) as rows of words and numbers, in the reader's
 * language: the text report and the page lay out the same rows.
 */
import type { CaseReport, Durations } from './cases-report';
import type { ReportFormat } from './format';

export interface CaseRows {
  opened: string;
  /** [status as people say it, cases] */
  byStatus: [string, string][];
  /** [what is measured, median, 90th percentile, cases measured] */
  times: [string, string, string, string][];
  /** [answer, how many] */
  closure: [string, string][];
}

/** Minutes as people read a wait: minutes under two hours, hours under two days, then days. */
function duration(minutes: number | null, f: ReportFormat): string {
  if (minutes === null) return f.t('page.noValue');
  if (minutes < 120) return f.t('cases.duration.minutes', { value: f.number(Math.round(minutes)) });
  if (minutes < 48 * 60) return f.t('cases.duration.hours', { value: f.number(minutes / 60) });
  return f.t('cases.duration.days', { value: f.number(minutes / (24 * 60)) });
}

const timeRow = (label: string, d: Durations, f: ReportFormat): [string, string, string, string] => [label, duration(d.medianMinutes, f), duration(d.p90Minutes, f), String(d.cases)];

export function caseRows(cases: CaseReport, f: ReportFormat): CaseRows {
  // Every status is one of the endpoint's or a delivery status: each has its name in report.json.
  const statusName = (status: string) => f.t(`cases.status.${status.replace(':', '_')}`);
  const c = cases.closure;
  return {
    opened: f.t('cases.opened', { n: cases.opened }),
    byStatus: Object.entries(cases.byStatus).map(([status, n]) => [statusName(status), String(n)]),
    times: [timeRow(f.t('cases.firstResponse'), cases.firstResponse, f), timeRow(f.t('cases.resolution'), cases.resolution, f)],
    closure: [
      [f.t('cases.closure.asked'), String(c.asked)],
      [f.t('cases.closure.solved'), String(c.solved)],
      [f.t('cases.closure.notSolved'), String(c.notSolved)],
      [f.t('cases.closure.reopen'), String(c.reopen)],
      [f.t('cases.closure.newCase'), String(c.newCase)],
    ],
  };
}

/** The rows as plain text lines for `npm run report`. */
export function caseTextLines(cases: CaseReport, f: ReportFormat): string[] {
  const rows = caseRows(cases, f);
  const pad = (pairs: [string, string][]) => {
    const width = Math.max(0, ...pairs.map(([label]) => label.length));
    return pairs.map(([label, n]) => `  ${label.padEnd(width)}  ${n.padStart(5)}`);
  };
  return [
    '',
    `== ${f.t('cases.heading')}`,
    rows.opened,
    f.t('cases.byStatusHeading'),
    ...(rows.byStatus.length ? pad(rows.byStatus) : [`  ${f.t('none')}`]),
    ...rows.times.map(([label, median, p90, n]) => f.t('cases.timeLine', { label, median, p90, cases: n })),
    f.t('cases.closure.heading'),
    ...pad(rows.closure),
  ];
}
