/**
 * The funnel report as a page (issue 20): the seeded conversations of the real flow, rendered to
 * HTML in both languages; the numbers are read back from the page's text and from the SVG chart.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReportPage, REPORT_PAGE_CSP } from '../../src/funnel/page';
import { loadFunnelEvents } from '../../src/funnel/query';
import { buildReport, type ReportFilters } from '../../src/funnel/report';
import { stepLabels } from '../../src/funnel/step-labels';
import { createTranslator } from '../../src/i18n';
import type { FunnelEvent } from '../../src/storage/store';
import { REPORT_NOW, SEED_PERSONAL, SEED_WINDOW, seedConversations, startSeedApp, type SeededApp } from './real-flow';
import { bars, section, textOf } from './page-text';

const translator = createTranslator();
const labels = stepLabels(translator);
let seeded: SeededApp;
let events: FunnelEvent[];

beforeAll(async () => {
  seeded = await startSeedApp();
  await seedConversations(seeded);
  events = await loadFunnelEvents(seeded.app.store.db, SEED_WINDOW);
});

afterAll(() => seeded.close());

function page(locale: 'en' | 'uk', only?: ReportFilters): Promise<string> {
  const report = buildReport(events, { ...SEED_WINDOW, now: REPORT_NOW, idleMs: 30 * 60_000, ...(only ? { only } : {}) });
  return renderReportPage(report, translator, locale, { stepLabel: labels(locale) });
}

describe('the funnel report page in English', () => {
  let html: string;
  beforeAll(async () => {
    html = await page('en');
  });

  it('says which window and filters it covers', () => {
    expect(textOf(html)).toContain('Conversations that started from 2026-11-20 00:00 UTC to 2026-11-21 00:00 UTC');
    const covers = textOf(section(html, 'covers'));
    expect(covers).toContain('Channel all');
    expect(covers).toContain('Language all');
    expect(covers).toContain('Counted as abandoned after 30 min without activity');
  });

  it('sums up conversations, deflection and median turns', () => {
    const summary = textOf(section(html, 'summary'));
    expect(summary).toContain('Conversations 7');
    expect(summary).toContain('Deflection rate 71.4% 5 of 7 finished conversations resolved without a case');
    expect(summary).toContain('Median turns 5');
  });

  it('draws reach and drop-off per step: a bar per step, as long as its count, with the step name on the axis', () => {
    const chart = bars(section(html, 'steps'));
    expect(chart.map((b) => b.label)).toContain('N2 Order line status in CCW: 5 reached, 1 abandoned here');
    expect(chart.map((b) => b.label)).toContain('What brings you here?: 7 reached, 0 abandoned here');
    const width = (name: string) => chart.find((b) => b.label.startsWith(`${name}:`))!.width;
    // 5 of 7 and 2 of 7 conversations: the bars are in that proportion.
    expect(width('N2 Order line status in CCW') / width('What brings you here?')).toBeCloseTo(5 / 7, 3);
    expect(width('N1 Check Spam (Junk) and mail filters') / width('What brings you here?')).toBeCloseTo(2 / 7, 3);
    const svgText = textOf(section(html, 'steps').match(/<svg[\s\S]*<\/svg>/)![0]);
    expect(svgText).toContain('N2 Order line status in CCW');
    expect(svgText).toContain('5 (−1)');
    expect(svgText).toContain('Reached the step');
    expect(svgText).toContain('Abandoned here');
  });

  it('lists each step with its id, reach, share and drop-off', () => {
    const steps = textOf(section(html, 'steps'));
    expect(steps).toContain('N2 Order line status in CCW orderLineStatus 5 71.4% 1');
    expect(steps).toContain('What brings you here? entry 7 100% 0');
  });

  it('shows the endings with counts and shares', () => {
    const endings = textOf(section(html, 'endings'));
    expect(endings).toContain('Resolved by the spam check 2 28.6%');
    expect(endings).toContain('Case opened 1 14.3%');
    expect(endings).toContain('Abandoned 1 14.3%');
    expect(endings).not.toContain('Other outcome');
  });

  it('breaks the numbers down by language, channel and mode', () => {
    expect(textOf(section(html, 'by-locale'))).toContain('English (en) 6 6 4 66.7% 1 1 4.5');
    expect(textOf(section(html, 'by-locale'))).toContain('Ukrainian (uk) 1 1 1 100% 0 0 6');
    expect(textOf(section(html, 'by-channel'))).toContain('webex 1 1 1 100% 0 0 7');
    expect(textOf(section(html, 'by-mode'))).toContain('agent triage 1 1 1 100% 0 0 6');
  });

  it('is self-contained and script-free: no script, no link, no inline style attribute; its style block matches its CSP', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\son[a-z]+=|\sstyle=|javascript:|https?:\/\/(?!www\.w3\.org)/i);
    const css = html.match(/<style>([\s\S]*?)<\/style>/)![1]!;
    const hash = `'sha256-${createHash('sha256').update(css).digest('base64')}'`;
    expect(REPORT_PAGE_CSP).toContain(`style-src ${hash}`);
    expect(REPORT_PAGE_CSP).not.toMatch(/script-src|unsafe/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${hash}`);
  });

  it('holds no personal data', () => {
    for (const personal of SEED_PERSONAL) expect(html).not.toContain(personal);
  });
});

describe('the funnel report page in Ukrainian', () => {
  it('has every string translated and the same numbers', async () => {
    const html = await page('uk');
    expect(html).toContain('<html lang="uk">');
    expect(html).not.toMatch(/report:|\{\{|page\.|table\.|chart\./);
    expect(textOf(section(html, 'summary'))).toMatch(/Частка вирішених без звернення 71,4\s?%/);
    expect(bars(section(html, 'steps')).map((b) => b.label)).toContain('N2 Статус рядка замовлення в CCW: дійшли 5, покинуто тут 1');
    expect(textOf(section(html, 'by-mode'))).toContain('тріаж агентом 1');
  });
});

describe('a filtered or empty report page', () => {
  it('names the filter and counts only its conversations', async () => {
    const html = await page('en', { channel: 'webex' });
    expect(textOf(section(html, 'covers'))).toContain('Channel webex');
    expect(textOf(section(html, 'summary'))).toContain('Conversations 1');
    expect(bars(section(html, 'steps')).map((b) => b.label)).toContain('N5 Edit, Save, Apply to all lines, Done: 1 reached, 0 abandoned here');
  });

  it('says so when nothing started in the window, without a chart', async () => {
    const report = buildReport([], { from: new Date('2020-01-01T00:00:00Z'), to: new Date('2020-01-02T00:00:00Z'), now: REPORT_NOW, idleMs: 60_000 });
    const html = await renderReportPage(report, translator, 'en');
    expect(textOf(html)).toContain('No conversations started in this window.');
    expect(html).not.toContain('<svg');
  });
});
