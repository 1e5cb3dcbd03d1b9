/**
 * The follow-ups and "did this help?" part of the report (./satisfaction-report.ts) as rows of words
 * and numbers, in the reader's language: the text report and the page lay out the same rows.
 */
import type { ReportFormat } from './format';
import type { Ratings, SatisfactionReport } from './satisfaction-report';

export interface SatisfactionRows {
  /** [where, 👍, 👎, share that helped] */
  ratings: [string, string, string, string][];
  ratingsSummary: string;
  /** [what became of them, how many] */
  followups: [string, string][];
  confirmed: string;
}

const FOLLOWUP_KEYS = ['accepted', 'pending', 'fired', 'cancelled', 'dropped', 'arrived', 'notArrived'] as const;

export function satisfactionRows(r: SatisfactionReport, f: ReportFormat): SatisfactionRows {
  const share = (v: number | null) => (v === null ? f.t('page.noValue') : f.percent(v));
  const row = (label: string, x: Ratings): [string, string, string, string] => [label, String(x.up), String(x.down), share(x.share)];
  const group = (kind: 'ending' | 'locale' | 'channel' | 'mode', entries: Record<string, Ratings>) =>
    Object.entries(entries).map(([value, x]) =>
      row(f.t(`satisfaction.group.${kind}`, { value: kind === 'locale' || kind === 'mode' ? f.segmentName(kind, value) : value }), x),
    );
  return {
    ratings: [
      row(f.t('satisfaction.group.total'), r.total),
      ...group('ending', r.byEnding),
      ...group('locale', r.byLocale),
      ...group('channel', r.byChannel),
      ...group('mode', r.byMode),
    ],
    ratingsSummary: f.t('satisfaction.summary', { n: r.total.up + r.total.down, comments: r.total.comments }),
    followups: FOLLOWUP_KEYS.map((k) => [f.t(`satisfaction.followups.${k}`), String(r.followups[k])]),
    confirmed: f.t('satisfaction.confirmed', { endings: r.endings, confirmed: r.confirmedByFollowup, share: share(r.confirmedShare) }),
  };
}

/** The rows as plain text lines for `npm run report`. */
export function satisfactionTextLines(r: SatisfactionReport, f: ReportFormat): string[] {
  const rows = satisfactionRows(r, f);
  const width = Math.max(0, ...rows.followups.map(([label]) => label.length));
  return [
    '',
    `== ${f.t('satisfaction.heading')}`,
    rows.ratingsSummary,
    ...rows.ratings.map(([label, up, down, helped]) => `  ${f.t('satisfaction.ratingLine', { label, up, down, helped })}`),
    f.t('satisfaction.followupsHeading'),
    ...rows.followups.map(([label, n]) => `  ${label.padEnd(width)}  ${n.padStart(5)}`),
    rows.confirmed,
  ];
}
