/**
 * The funnel report as one self-contained HTML page for the support managers who read it: inline CSS
 * and an inline SVG chart, no script, nothing fetched. It opens offline and as an email attachment,
 * and its own CSP (a meta element, and the header at GET /report) forbids any script. Every word comes
 * from locales/<lng>/report.json; every number from report.ts.
 */
import { createHash } from 'node:crypto';
import type { Locale } from '../../dialogs/flow';
import type { Translator } from '../i18n';
import type { CaseReport } from './cases-report';
import { caseRows } from './cases-render';
import type { SatisfactionReport } from './satisfaction-report';
import { satisfactionRows } from './satisfaction-render';
import type { HandoffReport } from './handoff-report';
import { handoffRows } from './handoff-render';
import { reachChartSvg, stepRows, type StepRow } from './chart';
import { reportFormat, type ReportFormat, type SegmentKind } from './format';
import { ENDINGS, type FunnelReport, type Segment } from './report';
import type { StepLabel } from './step-labels';

const CSS = `
:root { color-scheme: light; --ink: #0f172a; --muted: #475569; --line: #e2e8f0; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; color: var(--ink); background: #f8fafc; }
main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .75rem; }
.lead { margin: 0 0 1rem; color: var(--muted); }
section, .covers { background: white; border: 1px solid var(--line); border-radius: .5rem; padding: 1rem 1.25rem; margin-top: 1rem; }
section > h2:first-child, .covers > h2:first-child { margin-top: 0; }
details { margin-top: .75rem; }
summary { cursor: pointer; color: var(--accent); }
.covers dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
.covers dt { color: var(--muted); }
.covers dd { margin: 0; }
.note { color: var(--muted); font-size: .9rem; margin: .75rem 0 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .75rem; }
.card { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem; }
.card .label { color: var(--muted); font-size: .9rem; }
.card .value { font-size: 1.8rem; font-weight: 600; }
.card .detail { color: var(--muted); font-size: .85rem; }
figure { margin: 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .5rem; }
table { border-collapse: collapse; width: 100%; margin-top: .75rem; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.num, th.num { text-align: right; }
code { font-size: .85em; color: var(--muted); }
@media print { body { background: white; } section, .covers { break-inside: avoid; border: none; padding: 0; } }
`;

const STYLE_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;
const CSP_DIRECTIVES = ["default-src 'none'", `style-src ${STYLE_HASH}`, "base-uri 'none'", "form-action 'none'"];
/** The page's policy: its own style block and nothing else, no script at all. For the HTTP header. */
export const REPORT_PAGE_CSP = [...CSP_DIRECTIVES, "frame-ancestors 'none'"].join('; ');

export interface ReportPageOptions {
  /** Readable names of steps (step-labels.ts); the step id is shown beside them. */
  stepLabel?: StepLabel;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Column<Row> {
  head: string;
  num?: boolean;
  cell: (row: Row) => string;
}

/** A table whose cells are text (escaped here). */
function table<Row>(columns: Column<Row>[], rows: Row[]): string {
  const cls = (c: Column<Row>) => (c.num ? ' class="num"' : '');
  const head = columns.map((c) => `<th scope="col"${cls(c)}>${escapeHtml(c.head)}</th>`).join('');
  const body = rows.map((r) => `<tr>${columns.map((c) => `<td${cls(c)}>${escapeHtml(c.cell(r))}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function covers(report: FunnelReport, f: ReportFormat): string {
  const all = f.t('page.all');
  const items: [string, string][] = [
    [f.t('page.filter.window'), `${f.time(report.from)} – ${f.time(report.to)}`],
    [f.t('page.filter.channel'), report.filters.channel ?? all],
    [f.t('page.filter.locale'), report.filters.locale ? f.segmentName('locale', report.filters.locale) : all],
    [f.t('page.filter.mode'), report.filters.mode ? f.segmentName('mode', report.filters.mode) : all],
    [f.t('page.filter.idle'), f.t('page.idleValue', { minutes: f.number(report.idleMinutes) })],
    [f.t('page.filter.generated'), f.time(report.generatedAt)],
  ];
  const dl = items.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n');
  return `<div class="covers" id="covers">\n<h2>${escapeHtml(f.t('page.coversHeading'))}</h2>\n<dl>\n${dl}\n</dl>\n<p class="note">${escapeHtml(f.t('page.definitions'))}</p>\n</div>`;
}

function card(id: string, label: string, value: string, detail: string): string {
  return `<div class="card" id="${id}"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div><div class="detail">${escapeHtml(detail)}</div></div>`;
}

function summary(s: Segment, f: ReportFormat): string {
  const none = f.t('page.noValue');
  return [
    `<section id="summary">\n<h2>${escapeHtml(f.t('page.summaryHeading'))}</h2>\n<div class="cards">`,
    card('conversations', f.t('page.conversations'), String(s.conversations), ''),
    card(
      'deflection',
      f.t('page.deflection'),
      s.deflectionRate === null ? none : f.percent(s.deflectionRate),
      s.deflectionRate === null ? f.t('page.deflectionNone') : f.t('page.deflectionDetail', { deflected: s.deflected, finished: s.finished }),
    ),
    card('median-turns', f.t('page.medianTurns'), s.medianTurns === null ? none : f.number(s.medianTurns), f.t('page.medianTurnsDetail')),
    '</div>\n</section>',
  ].join('\n');
}

async function steps(s: Segment, f: ReportFormat, label: StepLabel | undefined): Promise<string> {
  const rows = stepRows(s, label);
  const share = (n: number) => (s.conversations ? f.percent(n / s.conversations) : f.t('page.noValue'));
  const columns: Column<StepRow>[] = [
    { head: f.t('table.step'), cell: (r) => r.name },
    { head: f.t('table.stepId'), cell: (r) => r.step },
    { head: f.t('table.reached'), num: true, cell: (r) => String(r.reached) },
    { head: f.t('table.reachedShare'), num: true, cell: (r) => share(r.reached) },
    { head: f.t('table.dropped'), num: true, cell: (r) => String(r.dropped) },
  ];
  return [
    `<section id="steps">\n<h2>${escapeHtml(f.t('page.stepsHeading'))}</h2>`,
    // The SVG is Vega's own markup: its text is escaped by Vega, and it holds no script.
    `<figure>\n${await reachChartSvg(rows, f)}\n<figcaption>${escapeHtml(f.t('page.stepsCaption'))}</figcaption>\n</figure>`,
    // The exact numbers and step ids, folded (no script needed): the chart already labels each bar.
    `<details>\n<summary>${escapeHtml(f.t('page.stepsTable'))}</summary>\n${table(columns, rows)}\n</details>`,
    '</section>',
  ].join('\n');
}

function endings(s: Segment, f: ReportFormat): string {
  // "Other" only when something ended that way, as in the printed report.
  const shown = ENDINGS.filter((e) => s.endings[e] > 0 || e !== 'other');
  const columns: Column<(typeof ENDINGS)[number]>[] = [
    { head: f.t('table.ending'), cell: (e) => f.t(`ending.${e}`) },
    { head: f.t('table.conversations'), num: true, cell: (e) => String(s.endings[e]) },
    { head: f.t('table.share'), num: true, cell: (e) => (s.conversations ? f.percent(s.endings[e] / s.conversations) : f.t('page.noValue')) },
  ];
  return `<section id="endings">\n<h2>${escapeHtml(f.t('page.endingsHeading'))}</h2>\n${table(columns, shown)}\n</section>`;
}

const BREAKDOWNS: { kind: SegmentKind; key: 'byLocale' | 'byChannel' | 'byMode'; heading: string; column: string }[] = [
  { kind: 'locale', key: 'byLocale', heading: 'page.byLocaleHeading', column: 'table.locale' },
  { kind: 'channel', key: 'byChannel', heading: 'page.byChannelHeading', column: 'table.channel' },
  { kind: 'mode', key: 'byMode', heading: 'page.byModeHeading', column: 'table.mode' },
];

function breakdown(report: FunnelReport, which: (typeof BREAKDOWNS)[number], f: ReportFormat): string {
  const none = f.t('page.noValue');
  type Row = [string, Segment];
  const columns: Column<Row>[] = [
    { head: f.t(which.column), cell: ([v]) => f.segmentName(which.kind, v) },
    { head: f.t('table.conversations'), num: true, cell: ([, s]) => String(s.conversations) },
    { head: f.t('table.finished'), num: true, cell: ([, s]) => String(s.finished) },
    { head: f.t('table.deflected'), num: true, cell: ([, s]) => String(s.deflected) },
    { head: f.t('table.deflectionRate'), num: true, cell: ([, s]) => (s.deflectionRate === null ? none : f.percent(s.deflectionRate)) },
    { head: f.t('table.caseOpened'), num: true, cell: ([, s]) => String(s.endings.case_opened) },
    { head: f.t('table.abandoned'), num: true, cell: ([, s]) => String(s.endings.abandoned) },
    { head: f.t('table.medianTurns'), num: true, cell: ([, s]) => (s.medianTurns === null ? none : f.number(s.medianTurns)) },
  ];
  return `<section id="by-${which.kind}">\n<h2>${escapeHtml(f.t(which.heading))}</h2>\n${table(columns, Object.entries(report[which.key]))}\n</section>`;
}

/** Support cases opened in the window: where they stand, how long support took, "is it solved?". */
function cases(report: CaseReport, f: ReportFormat): string {
  const rows = caseRows(report, f);
  const pairs = (head: [string, string], list: [string, string][]) =>
    table<[string, string]>([{ head: head[0], cell: (r) => r[0] }, { head: head[1], num: true, cell: (r) => r[1] }], list);
  const times = table<[string, string, string, string]>(
    [
      { head: f.t('cases.table.measure'), cell: (r) => r[0] },
      { head: f.t('cases.table.median'), num: true, cell: (r) => r[1] },
      { head: f.t('cases.table.p90'), num: true, cell: (r) => r[2] },
      { head: f.t('cases.table.cases'), num: true, cell: (r) => r[3] },
    ],
    rows.times,
  );
  return [
    `<section id="cases">\n<h2>${escapeHtml(f.t('cases.heading'))}</h2>`,
    `<p>${escapeHtml(rows.opened)}</p>`,
    pairs([f.t('cases.table.status'), f.t('cases.table.cases')], rows.byStatus),
    times,
    `<h3>${escapeHtml(f.t('cases.closure.heading'))}</h3>`,
    pairs([f.t('cases.table.answer'), f.t('cases.table.count')], rows.closure),
    `<p class="note">${escapeHtml(f.t('cases.note'))}</p>`,
    '</section>',
  ].join('\n');
}

/** "Did this help?" per ending, language, channel and mode; what became of the follow-ups. */
function satisfaction(report: SatisfactionReport, f: ReportFormat): string {
  const rows = satisfactionRows(report, f);
  const ratings = table<[string, string, string, string]>(
    [
      { head: f.t('satisfaction.table.where'), cell: (r) => r[0] },
      { head: f.t('satisfaction.table.up'), num: true, cell: (r) => r[1] },
      { head: f.t('satisfaction.table.down'), num: true, cell: (r) => r[2] },
      { head: f.t('satisfaction.table.helped'), num: true, cell: (r) => r[3] },
    ],
    rows.ratings,
  );
  const followups = table<[string, string]>([{ head: f.t('satisfaction.table.what'), cell: (r) => r[0] }, { head: f.t('satisfaction.table.count'), num: true, cell: (r) => r[1] }], rows.followups);
  return [
    `<section id="satisfaction">\n<h2>${escapeHtml(f.t('satisfaction.heading'))}</h2>`,
    `<p>${escapeHtml(rows.ratingsSummary)}</p>`,
    ratings,
    `<h3>${escapeHtml(f.t('satisfaction.followupsHeading'))}</h3>`,
    followups,
    `<p>${escapeHtml(rows.confirmed)}</p>`,
    '</section>',
  ].join('\n');
}

/** Hand-offs to a person: requested, taken, wait, what became of them. */
function handoff(report: HandoffReport, f: ReportFormat): string {
  return [
    `<section id="handoff">\n<h2>${escapeHtml(f.t('handoff.heading'))}</h2>`,
    table<[string, string]>([{ head: f.t('satisfaction.table.what'), cell: (r) => r[0] }, { head: f.t('satisfaction.table.count'), num: true, cell: (r) => r[1] }], handoffRows(report, f)),
    `<p class="note">${escapeHtml(f.t('handoff.note'))}</p>`,
    '</section>',
  ].join('\n');
}

export async function renderReportPage(report: FunnelReport, translator: Translator, locale: Locale, opts: ReportPageOptions = {}): Promise<string> {
  const f = reportFormat(translator, locale);
  const title = f.t('page.title');
  const body =
    report.total.conversations === 0
      ? [`<section id="no-data"><p>${escapeHtml(f.t('noData'))}</p></section>`]
      : [
          summary(report.total, f),
          await steps(report.total, f, opts.stepLabel),
          endings(report.total, f),
          ...BREAKDOWNS.map((b) => breakdown(report, b, f)),
        ];
  if (report.cases) body.push(cases(report.cases, f));
  if (report.satisfaction) body.push(satisfaction(report.satisfaction, f));
  if (report.handoff) body.push(handoff(report.handoff, f));
  return [
    '<!doctype html>',
    `<html lang="${locale}">`,
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP_DIRECTIVES.join('; ')}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(`${title} ${f.time(report.from)} – ${f.time(report.to)}`)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="lead" id="window">${escapeHtml(f.t('page.window', { from: f.time(report.from), to: f.time(report.to) }))}</p>`,
    covers(report, f),
    ...body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
