/**
 * Issue 14, item 8, in Debian's chromium: Microsoft's Web Chat on our page refreshes its Direct Line
 * token every 15 minutes by itself. Each refresh now gives a new token and the old one soon stops
 * working, so over a session longer than a token's life the page must pick up each new token, use
 * it, keep it for a reload, and go on answering. The browser's clock (Playwright's fake timers) and
 * the endpoint's clock are moved together instead of waiting.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFRESH_GRACE_MS } from '../../../src/channels/directline/conversation-tokens';
import { dropBotData, newBotData, startClockedBot, type BotData, type ClockedBot } from './clocked-bot';
import { launchChromium } from '../../e2e/chromium';

const MINUTE = 60_000;
const BOT_MESSAGES = '#webchat .webchat__stacked-layout:not(.webchat__stacked-layout--from-user) .webchat__bubble__content';
const SEND_BOX = '#webchat .webchat__send-box-text-box__input';

let data: BotData;
let bot: ClockedBot;
let browser: Browser;

beforeAll(async () => {
  data = newBotData('sqlite');
  // The endpoint's clock flows (Web Chat orders what it shows by timestamp) and the test moves it on.
  bot = await startClockedBot(data, { flowing: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await bot?.stop();
  if (data) await dropBotData(data);
});

function stored(page: Page): Promise<{ conversationId?: string; token?: string }> {
  return page.evaluate(() => JSON.parse(localStorage.getItem('pce.webchat.v1') || '{}') as { conversationId?: string; token?: string });
}

async function askAndGetAnswer(page: Page, text: string): Promise<void> {
  const before = await page.locator(BOT_MESSAGES).count();
  const box = page.locator(SEND_BOX);
  await box.fill(text);
  await box.press('Enter');
  await expect.poll(() => page.locator(BOT_MESSAGES).count(), { timeout: 15_000 }).toBeGreaterThan(before);
}

describe('Web Chat over a session longer than a token lasts', () => {
  it('takes each refreshed token, polls with it, keeps it for a reload, and old tokens stop working', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.clock.install();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const polledWith: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'GET' && r.url().includes('/activities')) polledWith.push(r.headers().authorization ?? '');
    });

    await page.goto(`${bot.url}/?lang=en`);
    await expect.poll(() => page.locator(BOT_MESSAGES).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const { conversationId, token: first } = await stored(page);
    expect(first).toBeTruthy();
    const tokens = [first!];

    // Five of Web Chat's 15-minute refreshes: 90 minutes of the endpoint's time, past the 60-minute TTL.
    for (let i = 0; i < 5; i += 1) {
      bot.advance(16 * MINUTE);
      await page.clock.fastForward('16:00');
      await expect.poll(async () => (await stored(page)).token, { timeout: 15_000 }).not.toBe(tokens.at(-1));
      tokens.push((await stored(page)).token!);
      bot.advance(REFRESH_GRACE_MS);
      await askAndGetAnswer(page, 'help');
    }
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(polledWith.at(-1)).toBe(`Bearer ${tokens.at(-1)}`);
    for (const old of tokens.slice(0, -1)) {
      const res = await fetch(`${bot.url}/directline/conversations/${conversationId}/activities?watermark=`, { headers: { authorization: `Bearer ${old}` } });
      expect(res.status).toBe(403);
    }

    // A reload goes on with the same conversation, from the kept token.
    const shown = await page.locator(BOT_MESSAGES).count();
    await page.reload();
    await expect.poll(() => page.locator(BOT_MESSAGES).count(), { timeout: 15_000 }).toBe(shown);
    expect((await stored(page)).conversationId).toBe(conversationId);
    await askAndGetAnswer(page, 'help');
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
