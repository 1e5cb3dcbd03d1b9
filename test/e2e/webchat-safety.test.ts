/**
 * Issue 14 in a real browser (Debian's chromium driven by playwright-core, Microsoft's Web Chat on the
 * page, the bot's own server on a loopback port):
 * - item 10: what a person types or attaches and the bot repeats shows as typed; markdown and HTML in
 *   it never become elements (no <img>, no link, no emphasis) in the bot's messages and cards;
 * - item 7: the site token opens the page once and is gone: not in the address, the history, a
 *   Referer, the page's storage or a script-readable cookie.
 */
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTranslator } from '../../src/i18n';
import { startBot, type RunningBot } from '../channels/directline/harness';
import { launchChromium } from './chromium';

const BOT_MESSAGES = '#webchat .webchat__stacked-layout:not(.webchat__stacked-layout--from-user) .webchat__bubble__content';
const SEND_BOX = '#webchat .webchat__send-box-text-box__input';
const SUGGESTED = '#webchat .webchat__suggested-actions';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const translator = createTranslator();
const t = (key: string, params?: Record<string, unknown>) => translator.t('en', key, params);

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

async function botCount(page: Page): Promise<number> {
  return page.locator(BOT_MESSAGES).count();
}

async function lastBotText(page: Page): Promise<string> {
  return (await page.locator(BOT_MESSAGES).allInnerTexts()).at(-1) ?? '';
}

/** Types a line into Web Chat and waits for the bot to answer it. */
async function say(page: Page, text: string): Promise<void> {
  const before = await botCount(page);
  const box = page.locator(SEND_BOX);
  await box.fill(text);
  await box.press('Enter');
  await expect.poll(() => botCount(page), { timeout: 15_000 }).toBeGreaterThan(before);
}

describe('words a person typed, in the web chat', () => {
  let bot: RunningBot;
  beforeAll(async () => {
    bot = await startBot();
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('shows a typed email and an attached file name with markdown and HTML in them as typed, in text and in the case summary card', async () => {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 1300 } });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${bot.url}/?lang=en`);
    await expect.poll(() => botCount(page), { timeout: 15_000 }).toBeGreaterThan(0);

    // Emphasis a valid email may carry; the intake repeats it in the next question and the summary.
    const email = '__init__@example.com';
    await say(page, 'talk to support');
    await say(page, '104857391');
    await say(page, 'Sub123456');
    await say(page, email);
    await expect.poll(() => lastBotText(page), { timeout: 15_000 }).toContain(`(Current: ${email})`);
    await say(page, 'new.contact@example.com');

    // A file name is the person's own text too. The server keeps it as a file name (no `<>:*`), so
    // what it repeats is the rest: an image, a link, emphasis.
    const fileName = '![x](x.png) [link](javascript:alert(1)) **b** <img src=x onerror=alert(1)>.png';
    const keptName = '![x](x.png) [link](javascript_alert(1)) __b__ _img src=x onerror=alert(1)_.png';
    const before = await botCount(page);
    await page.locator('#webchat input[type=file]').setInputFiles({ name: fileName, mimeType: 'image/png', buffer: PNG });
    await expect.poll(() => botCount(page), { timeout: 15_000 }).toBeGreaterThan(before);
    await expect.poll(() => lastBotText(page), { timeout: 15_000 }).toContain(keptName);

    await page.locator(SUGGESTED).getByRole('button', { name: t('support-case:attachments.done'), exact: true }).click();
    const card = page.locator('#webchat .ac-adaptiveCard').last();
    await expect.poll(async () => (await card.count()) > 0 && (await card.innerText()).includes(t('support-case:summary.prompt')), { timeout: 15_000 }).toBe(true);
    const cardText = await card.innerText();
    expect(cardText).toContain(email);
    expect(cardText).toContain(keptName);

    // Nothing of it became an element: the bot's messages hold no image, no emphasis, no link of its making.
    const bot_ = page.locator(BOT_MESSAGES);
    expect(await bot_.locator('img').count()).toBe(0);
    expect(await bot_.locator('strong, em, b, i, s, del').count()).toBe(0);
    expect(await page.locator('#webchat img[src="x.png"], #webchat img[src="x"], #webchat a[href*="javascript"]').count()).toBe(0);
    const links = await bot_.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    // Web Chat links bare web and email addresses itself (https:, mailto:); nothing else is a link.
    expect(links, JSON.stringify(links)).toEqual(links.filter((href) => href !== null && /^(https:\/\/|mailto:)/.test(href)));
    expect(dialogs).toEqual([]);
    await context.close();
  }, 180_000);
});

describe('the site token in the browser', () => {
  const SITE_TOKEN = 'site-token-for-the-browser-cookie-test';
  let bot: RunningBot;
  beforeAll(async () => {
    bot = await startBot({ WEBCHAT_TOKEN: SITE_TOKEN });
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('opens the page from a link with the token, then keeps the token out of the address, history, Referer, storage and scripts', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    // What a reverse proxy or another machine adds: this browser is not on the bot's machine.
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '198.51.100.40' });
    const page = await context.newPage();
    const requests: Request[] = [];
    page.on('request', (r) => requests.push(r));

    await page.goto(`${bot.url}/?lang=en&token=${SITE_TOKEN}`);
    await expect.poll(() => botCount(page), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(page.url()).toBe(`${bot.url}/?lang=en`);
    // The address with the token is no entry of the history: one step back is the empty tab it opened in.
    await page.goBack();
    expect(page.url()).toBe('about:blank');
    await page.goForward();
    expect(page.url()).toBe(`${bot.url}/?lang=en`);

    // Only the very first request carried it; nothing after it, in its URL or its Referer.
    expect(requests[0]!.url()).toContain(SITE_TOKEN);
    for (const r of requests.slice(1)) {
      expect(r.url()).not.toContain(SITE_TOKEN);
      expect((await r.allHeaders()).referer ?? '').not.toContain(SITE_TOKEN);
    }

    // The cookie is out of scripts' reach, same-site only, and not the token.
    const script = await page.evaluate(() => ({ cookie: document.cookie, local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage) }));
    expect(script.cookie).not.toContain('pce_site');
    for (const value of Object.values(script)) expect(value).not.toContain(SITE_TOKEN);
    const [cookie, ...others] = await context.cookies();
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({ name: 'pce_site', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie!.value).not.toContain(SITE_TOKEN);

    // The cookie keeps the page open: a reload and "start over" go on without the token.
    await page.reload();
    await expect.poll(() => botCount(page), { timeout: 15_000 }).toBeGreaterThan(0);
    const starts: number[] = [];
    page.on('response', (r) => {
      if (r.request().method() === 'POST' && r.url().endsWith('/directline/conversations')) starts.push(r.status());
    });
    // Waited for by its response: the transcript before start over already shows one greeting, so a
    // count alone can pass before the new conversation is asked for (it did, under load).
    const started = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/directline/conversations'), { timeout: 15_000 });
    await page.locator('#start-over').click();
    expect((await started).status()).toBe(201);
    await expect.poll(() => botCount(page), { timeout: 15_000 }).toBe(1);
    expect(starts).toEqual([201]);
    await context.close();
  }, 120_000);

  it('refuses a browser elsewhere that comes without the token, in its language', async () => {
    const context = await browser.newContext({ locale: 'uk-UA' });
    await context.setExtraHTTPHeaders({ 'x-forwarded-for': '198.51.100.41' });
    const page = await context.newPage();
    const res = await page.goto(`${bot.url}/`);
    expect(res?.status()).toBe(403);
    expect(await page.locator('h1').innerText()).toBe(translator.t('uk', 'webchat:access.title'));
    await context.close();
  });
});
