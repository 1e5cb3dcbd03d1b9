/**
 * The "Talk to a person" part of the report (./handoff-report.ts) as rows of words and numbers, in
 * the reader's language: the text report and the page lay out the same rows.
 */
import type { ReportFormat } from './format';
import type { HandoffReport } from './handoff-report';

const COUNTS = ['requested', 'taken', 'unanswered', 'withdrawn', 'open', 'resolvedByPerson'] as const;

/** [what, how many]; the median wait after the taken ones. */
export function handoffRows(r: HandoffReport, f: ReportFormat): [string, string][] {
  const wait = r.medianWaitSeconds === null ? f.t('page.noValue') : f.t('handoff.minutes', { value: f.number(r.medianWaitSeconds / 60) });
  const rows: [string, string][] = COUNTS.map((k) => [f.t(`handoff.row.${k}`), f.number(r[k])]);
  rows.splice(2, 0, [f.t('handoff.row.medianWait'), wait]);
  return rows;
}

/** The rows as plain text lines for `npm run report`. */
export function handoffTextLines(r: HandoffReport, f: ReportFormat): string[] {
  const rows = handoffRows(r, f);
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  return ['', `== ${f.t('handoff.heading')}`, ...rows.map(([label, n]) => `  ${label.padEnd(width)}  ${n.padStart(7)}`), f.t('handoff.note')];
}
