/**
 * Reach and drop-off per step as an SVG bar chart, drawn by Vega (vega.github.io) on the server:
 * `renderer: 'none'` and `toSVG()` need no browser, canvas or DOM, and the SVG is plain markup (no
 * script, no style attributes), so it can sit inline in a page with a script-free CSP or an email.
 */
import type { Spec } from 'vega';
import type { ReportFormat } from './format';
import type { Segment } from './report';
import type { StepLabel } from './step-labels';
import { importPackage } from '../import-package';

export const CHART_COLOURS = { reached: '#2563eb', dropped: '#ea580c' } as const;

const WIDTH = 520;
const ROW = 24;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif';

/** Widths of characters in em of a common sans-serif (DejaVu Sans, Arial), erring wide. */
function charWidth(c: string): number {
  if (c === ' ') return 0.32;
  if (/[ijl|!.,:;'’`]/.test(c)) return 0.3;
  if (/[ftr()[\]\-]/.test(c)) return 0.42;
  if (/[mwMWЖжШшЩщЮюФф]/.test(c)) return 0.92;
  if (/[0-9]/.test(c)) return 0.64;
  if (/[A-ZА-ЯІЇЄҐ]/.test(c)) return 0.72;
  return 0.62;
}

type TextItem = { fontSize?: number; limit?: number };
type Vega = typeof import('vega');
let vega: Promise<Vega> | undefined;

/**
 * Vega on first use, not at start: the bot's start (and every test that builds the app) would pay
 * for it, and most processes never draw a report.
 *
 * Without a canvas Vega guesses every character at 0.8 em, which cuts step names short at the axis
 * and leaves a wide empty margin. Vega lets a caller replace that guess (`textMetrics.width`, as
 * vl-convert does); ours weighs each character, and a text over its item's `limit` counts as the limit
 * (Vega truncates it there).
 */
function loadVega(): Promise<Vega> {
  return (vega ??= importPackage<Vega>('vega').then((v) => {
    (v as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics.width = (item, text) => {
      const chars = text == null ? [] : [...String(text).trim()];
      const width = chars.reduce((w, c) => w + charWidth(c), 0) * (item.fontSize ?? 11);
      return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
    };
    return v;
  }));
}

export interface StepRow {
  step: string;
  /** What the axis shows: the step's readable name, or its id when it has none. */
  name: string;
  reached: number;
  /** Conversations abandoned at this step (the last step they saw). */
  dropped: number;
}

/** The chart's rows in the report's order (most reached first, which follows the funnel). */
export function stepRows(segment: Segment, label: StepLabel = () => undefined): StepRow[] {
  const dropped = new Map(segment.abandonedAt.map((s) => [s.step, s.conversations]));
  const rows = segment.reached.map((s) => ({ step: s.step, name: label(s.step) ?? s.step, reached: s.conversations, dropped: dropped.get(s.step) ?? 0 }));
  // Two steps of different flows can share a name: the axis needs each once, so add the id.
  const seen = new Map<string, number>();
  for (const r of rows) seen.set(r.name, (seen.get(r.name) ?? 0) + 1);
  return rows.map((r) => ((seen.get(r.name) ?? 0) > 1 ? { ...r, name: `${r.name} (${r.step})` } : r));
}

function spec(rows: StepRow[], f: ReportFormat): Spec {
  const reachedLegend = f.t('chart.reached');
  const droppedLegend = f.t('chart.dropped');
  const values = rows.map((r) => ({
    ...r,
    // Where the drop-off part of the bar starts: it is the end of the bar, the share that stayed there.
    keptTo: r.reached - r.dropped,
    text: r.dropped ? f.t('chart.barLabelDropped', { reached: r.reached, dropped: r.dropped }) : String(r.reached),
    description: f.t('chart.barDescription', { step: r.name, reached: r.reached, dropped: r.dropped }),
  }));
  const max = Math.max(1, ...rows.map((r) => r.reached));
  const text = { font: { value: FONT }, fontSize: { value: 12 }, fill: { value: '#0f172a' } };
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: f.t('chart.description'),
    width: WIDTH,
    height: Math.max(1, rows.length) * ROW,
    padding: 8,
    autosize: { type: 'pad' },
    background: 'white',
    config: { axis: { labelFont: FONT, titleFont: FONT, labelFontSize: 12, titleFontSize: 12 }, legend: { labelFont: FONT, labelFontSize: 12 } },
    data: [{ name: 'steps', values }],
    scales: [
      { name: 'y', type: 'band', domain: { data: 'steps', field: 'name' }, range: 'height', paddingInner: 0.25, paddingOuter: 0.1 },
      // Room on the right for the number at the end of the longest bar.
      { name: 'x', type: 'linear', domain: [0, max * 1.15], range: 'width', nice: true, zero: true },
      { name: 'colour', type: 'ordinal', domain: [reachedLegend, droppedLegend], range: [CHART_COLOURS.reached, CHART_COLOURS.dropped] },
    ],
    axes: [
      { orient: 'left', scale: 'y', labelLimit: 300, ticks: false, domain: false, labelPadding: 6 },
      { orient: 'bottom', scale: 'x', title: f.t('chart.axis'), format: 'd', tickMinStep: 1, grid: true, gridColor: '#e2e8f0' },
    ],
    legends: [{ fill: 'colour', orient: 'top', direction: 'horizontal', symbolType: 'square' }],
    marks: [
      {
        type: 'rect',
        name: 'reached',
        from: { data: 'steps' },
        encode: {
          enter: {
            y: { scale: 'y', field: 'name' },
            height: { scale: 'y', band: 1 },
            x: { scale: 'x', value: 0 },
            x2: { scale: 'x', field: 'reached' },
            fill: { value: CHART_COLOURS.reached },
            description: { field: 'description' },
          },
        },
      },
      {
        type: 'rect',
        name: 'dropped',
        // Out of the accessibility tree: each reach bar's description already says how many dropped off.
        aria: false,
        from: { data: 'steps' },
        encode: {
          enter: {
            y: { scale: 'y', field: 'name' },
            height: { scale: 'y', band: 1 },
            x: { scale: 'x', field: 'keptTo' },
            x2: { scale: 'x', field: 'reached' },
            fill: { value: CHART_COLOURS.dropped },
            // A zero-width rect still draws an edge in some viewers: leave it out.
            opacity: { signal: 'datum.dropped > 0 ? 1 : 0' },
          },
        },
      },
      {
        type: 'text',
        name: 'counts',
        aria: false,
        from: { data: 'steps' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'reached', offset: 5 },
            y: { scale: 'y', field: 'name', band: 0.5 },
            baseline: { value: 'middle' },
            text: { field: 'text' },
            ...text,
          },
        },
      },
    ],
  };
}

/** The chart of one segment (the whole window on the page) as an SVG element's markup. */
export async function reachChartSvg(rows: StepRow[], f: ReportFormat): Promise<string> {
  const { parse, View } = await loadVega();
  // Inline values only, never a `url`: the view loads nothing from disk or network.
  const view = new View(parse(spec(rows, f)), { renderer: 'none', logLevel: 0 });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
