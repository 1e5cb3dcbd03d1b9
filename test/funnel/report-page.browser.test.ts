/**
 * Issue 20 in Debian's chromium: GET /report as a support manager sees it. The chart is visible with
 * its labels, the page's own style block applies under its CSP (no script, nothing refused), and the
 * screenshot in the README (docs/funnel-report.png) is taken from it: with UPDATE_DOCS_SCREENSHOTS=1
 * the test writes it there; otherwise into a temp folder, so a test run leaves the checkout as it was.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../e2e/chromium';
import { REPORT_NOW, seedConversations, startSeedApp, type SeededApp } from './real-flow';

const TOKEN = 'report-browser-token-0123456789';
const SCREENSHOT =
  process.env.UPDATE_DOCS_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/funnel-report.png', import.meta.url)) : join(tmpdir(), `pce-funnel-report-${process.pid}.png`);

let seeded: SeededApp;
let url: string;
let browser: Browser;

/** A few more conversations than the number tests use, so the picture shows drop-off at more steps. */
async function seedMore({ talk, at }: SeededApp): Promise<void> {
  at('2026-11-20T10:00:00Z');
  const spam = talk('spam-2', { channel: 'webex', locale: 'uk-UA' });
  await spam.greet();
  await spam.press('never_arrived', 'found');
  const stuck = talk('left-2');
  await stuck.greet();
  await stuck.press('change_contact', 'awaiting');
  await talk('left-3', { channel: 'webex' }).greet();
  at(REPORT_NOW);
}

beforeAll(async () => {
  seeded = await startSeedApp({ METRICS_TOKEN: TOKEN });
  await seedConversations(seeded);
  await seedMore(seeded);
  url = (await seeded.app.listen(0, '127.0.0.1')).url;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  if (process.env.UPDATE_DOCS_SCREENSHOTS !== '1') rmSync(SCREENSHOT, { force: true });
  await seeded?.close();
});

async function open(path: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1024, height: 900 }, extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
  const page = await context.newPage();
  const problems: string[] = [];
  // A CSP refusal (of a style, say) shows up as a console error.
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  const res = await page.goto(`${url}${path}`);
  expect(res?.status()).toBe(200);
  return { page, problems };
}

describe('the funnel report page in headless Chromium', () => {
  it('shows the reach chart with its labels, styled, without a script or a refusal', async () => {
    const { page, problems } = await open('/report?from=2026-11-20&to=2026-11-21');
    const chart = page.locator('#steps svg');
    await expect.poll(() => chart.isVisible()).toBe(true);
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(400);
    expect(box!.height).toBeGreaterThan(200);

    // One bar per step in the table beneath, each with its description.
    const bars = chart.locator('path[aria-roledescription="rect mark"][aria-label]');
    expect(await bars.count()).toBe(await page.locator('#steps tbody tr').count());
    await expect.poll(() => bars.first().getAttribute('aria-label')).toBe('What brings you here?: 10 reached, 1 abandoned here');
    for (const label of ['What brings you here?', 'N2 Order line status in CCW', 'Reached the step', 'Abandoned here', 'Conversations', '10 (−1)']) {
      expect(await chart.locator('text', { hasText: label }).first().isVisible(), label).toBe(true);
    }
    expect(await page.locator('#summary .value').first().textContent()).toBe('10');
    expect(await page.locator('script').count()).toBe(0);
    // The style block ran under the page's CSP hash: the cards have their rounded border.
    expect(await page.locator('.card').first().evaluate((el) => getComputedStyle(el).borderTopLeftRadius)).toBe('8px');
    expect(problems).toEqual([]);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.context().close();
  });

  it('is written in Ukrainian with ?lang=uk', async () => {
    const { page, problems } = await open('/report?from=2026-11-20&to=2026-11-21&lang=uk');
    expect(await page.locator('html').getAttribute('lang')).toBe('uk');
    expect(await page.locator('#steps svg text', { hasText: 'Дійшли до кроку' }).isVisible()).toBe(true);
    expect(await page.locator('h1').textContent()).toBe('Звіт про воронку');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
