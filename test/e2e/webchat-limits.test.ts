/**
 * End to end in Debian's chromium: a person behind a trusted reverse proxy whose network has used up
 * its conversation starts sees, in the page's language, that there were too many, not that the bot
 * is down.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTranslator } from '../../src/i18n';
import { startBot, type RunningBot } from '../channels/directline/harness';
import { launchChromium } from './chromium';

const SITE_TOKEN = 'site-token-for-the-browser-limit-test';
const translator = createTranslator();
let bot: RunningBot;
let browser: Browser;

beforeAll(async () => {
  bot = await startBot({ WEBCHAT_TOKEN: SITE_TOKEN, TRUSTED_PROXIES: '127.0.0.1', DIRECTLINE_CONVERSATIONS_PER_HOUR: '1' });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await bot?.stop();
});

describe('web chat page over the conversation limit', () => {
  it.each(['uk', 'en'] as const)('tells the person in %s to wait, after Start over is refused with 429', async (locale) => {
    const context = await browser.newContext({ locale: locale === 'uk' ? 'uk-UA' : 'en-US' });
    // What a reverse proxy in front of the bot adds: each locale is a different network.
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': locale === 'uk' ? '198.51.100.31' : '198.51.100.32' });
    const page = await context.newPage();
    const refused: number[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/directline/conversations') && r.status() === 429) refused.push(r.status());
    });
    await page.goto(`${bot.url}/?lang=${locale}&token=${SITE_TOKEN}`);
    // The first conversation is within the limit: the bot greets.
    await expect.poll(() => page.locator('#webchat .webchat__bubble__content').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.locator('#start-over').click();
    await expect.poll(() => page.locator('#status').innerText(), { timeout: 15_000 }).toBe(translator.t(locale, 'webchat:page.tooManyRequests'));
    expect(refused).toEqual([429]);
    await context.close();
  });
});
