/**
 * End to end: the bot's own server on a random loopback port, Debian's chromium driven by
 * playwright-core, Microsoft's Web Chat on the page talking to the local Direct Line endpoint.
 * A person walks the troubleshooting flow to an outcome by pressing buttons and typing, once in
 * Ukrainian and once in English. What the page must show at each step is worked out from the flow
 * definition itself (a shadow actor of the same machine, translated with the same locale files), so
 * the test follows the flow's wording instead of copying it.
 */
import { mkdirSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, type AnyActorRef } from 'xstate';
import type { FlowInput, Locale, StepView } from '../../dialogs/flow';
import { provisioningContactFlow } from '../../dialogs/provisioning-contact/machine';
import { withEndingOffers } from '../../dialogs/followup/offers';
import { createTranslator } from '../../src/i18n';
import { fromJson } from '../../src/storage';
import { startBot, type RunningBot } from '../channels/directline/harness';
import { launchChromium } from './chromium';

/** The flow as the app runs it: its endings also ask "did this help?" and offer a follow-up (the default delay). */
const flow = withEndingOffers(provisioningContactFlow, { followup: { hours: 24, reachable: () => true } });

const RESULTS_DIR = 'test-results';
const translator = createTranslator();

const BOT_MESSAGES = '#webchat .webchat__stacked-layout:not(.webchat__stacked-layout--from-user) .webchat__bubble__content';
const USER_MESSAGES = '#webchat .webchat__stacked-layout--from-user .webchat__bubble__content';
const SUGGESTED = '#webchat .webchat__suggested-actions';
const SEND_BOX = '#webchat .webchat__send-box-text-box__input';

/** Web Chat renders the bot's markdown; compare text without typography and layout differences. */
function normalise(text: string): string {
  return text
    .replace(/[\u200b-\u200d\ufeff]/g, '')
    .replace(/^[ \t]*(\d+\.|[-*+])[ \t]+/gm, '')
    .replace(/[“”„"«»‘’'`*_\\]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

class ShadowFlow {
  private readonly actor: AnyActorRef;

  constructor(private readonly locale: Locale) {
    const input: FlowInput = { locale, channel: 'directline', user: { id: 'shadow' }, mode: 'self', startedAt: new Date(0).toISOString() };
    this.actor = createActor(flow.machine, { input }).start();
  }

  view(): StepView {
    return flow.view(this.actor.getSnapshot() as never);
  }

  choose(id: string): void {
    this.actor.send({ type: 'CHOOSE', choice: id });
  }

  t(key: string, params?: Record<string, unknown>): string {
    return translator.t(this.locale, key, params);
  }

  labels(view = this.view()): string[] {
    return view.choices.map((c) => this.t(c.labelKey, c.params));
  }

  lines(view = this.view()): string[] {
    return view.lines.map((l) => this.t(l.key, l.params)).filter(Boolean);
  }
}

class ChatPage {
  constructor(readonly page: Page) {}

  botCount(): Promise<number> {
    return this.page.locator(BOT_MESSAGES).count();
  }

  async lastBotText(): Promise<string> {
    const all = await this.page.locator(BOT_MESSAGES).allInnerTexts();
    return normalise(all.at(-1) ?? '');
  }

  async transcript(): Promise<string> {
    return normalise((await this.page.locator('#webchat').innerText()) ?? '');
  }

  async offered(): Promise<string[]> {
    return (await this.page.locator(`${SUGGESTED} button`).allInnerTexts()).map((t) => t.trim());
  }

  /** Waits until the bot's latest message shows every line of `lines` and the offered buttons are `labels`. */
  async expectStep(lines: string[], labels: string[]): Promise<void> {
    for (const line of lines) {
      await expect.poll(() => this.lastBotText(), { timeout: 15_000 }).toContain(normalise(line));
    }
    await expect.poll(() => this.offered(), { timeout: 15_000 }).toEqual(labels);
  }

  /** Brings the bot's latest message fully into view (Web Chat scrolls smoothly) for a screenshot. */
  async showLatest(): Promise<void> {
    const last = this.page.locator(BOT_MESSAGES).last();
    await last.scrollIntoViewIfNeeded();
    await expect
      .poll(() => last.evaluate((el) => el.getBoundingClientRect().bottom <= window.innerHeight && el.getBoundingClientRect().top >= 0))
      .toBe(true);
  }

  async press(label: string): Promise<void> {
    await this.page.locator(SUGGESTED).getByRole('button', { name: label, exact: true }).click();
  }

  async type(text: string): Promise<void> {
    const box = this.page.locator(SEND_BOX);
    await box.fill(text);
    await box.press('Enter');
  }
}

interface Walk {
  locale: Locale;
  /** Choice ids in order; the flow decides what each step offers. */
  path: string[];
  /** Steps (0-based) answered by typing the offered label instead of pressing it. */
  typed: number[];
  /** After this many answers, reload the page: the conversation must continue. */
  reloadAfter?: number;
  /** Before the first answer, switch the page to this language with the switch. */
  startIn?: Locale;
}

let bot: RunningBot;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(RESULTS_DIR, { recursive: true });
  bot = await startBot();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await bot?.stop();
});

async function walk(w: Walk): Promise<{ chat: ChatPage; outcome: string }> {
  const browserLocale = w.startIn ?? w.locale;
  const context = await browser.newContext({ locale: browserLocale === 'uk' ? 'uk-UA' : 'en-US', viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const chat = new ChatPage(page);
  const shadow = new ShadowFlow(w.locale);

  await page.goto(`${bot.url}/?lang=${browserLocale}`);
  const startT = (key: string) => translator.t(browserLocale, key);
  await expect.poll(() => page.locator('h1').innerText()).toBe(startT('webchat:page.title'));

  if (w.startIn) {
    const first = new ShadowFlow(w.startIn);
    await chat.expectStep(first.lines(), first.labels());
    await page.locator(`button[data-lang="${w.locale}"]`).click();
    // The page's own strings switch at once, and the bot repeats its question in the new language.
    await expect.poll(() => page.locator('h1').innerText()).toBe(translator.t(w.locale, 'webchat:page.title'));
    expect(await page.locator('html').getAttribute('lang')).toBe(w.locale);
    await chat.expectStep([translator.t(w.locale, 'common:languageSwitched'), ...shadow.lines()], shadow.labels());
  } else {
    await chat.expectStep(shadow.lines(), shadow.labels());
  }

  for (const [i, id] of w.path.entries()) {
    const view = shadow.view();
    const choice = view.choices.find((c) => c.id === id);
    expect(choice, `step ${view.step} offers ${id}`).toBeDefined();
    const label = shadow.t(choice!.labelKey, choice!.params);
    const before = await chat.botCount();
    if (w.typed.includes(i)) await chat.type(label);
    else await chat.press(label);
    shadow.choose(id);
    await expect.poll(() => chat.botCount(), { timeout: 15_000 }).toBeGreaterThan(before);
    // What the person answered shows as their own message, marked sent (not "Send failed").
    await expect.poll(async () => (await page.locator(USER_MESSAGES).allInnerTexts()).map((t) => t.trim()).at(-1)).toBe(label);
    await chat.expectStep(shadow.lines(), shadow.labels());

    if (w.reloadAfter === i + 1) {
      const transcriptBefore = await chat.transcript();
      await page.reload();
      // Same conversation: the history is back, and the current question still waits for an answer.
      await chat.expectStep(shadow.lines(), shadow.labels());
      await expect.poll(() => chat.transcript(), { timeout: 15_000 }).toContain(normalise(label));
      expect(await chat.botCount()).toBeGreaterThanOrEqual(i + 2);
      expect(transcriptBefore).toContain(normalise(label));
    }
  }

  const end = shadow.view();
  expect(end.outcome, `the path ends in an outcome, not at ${end.step}`).toBeDefined();
  expect(errors).toEqual([]);
  return { chat, outcome: end.outcome! };
}

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

describe('Web Chat in the browser', () => {
  it('walks to a verified change in Ukrainian by pressing and typing, survives a reload, and starts over', async () => {
    const { chat, outcome } = await walk({
      locale: 'uk',
      path: ['never_arrived', 'not_found', 'awaiting', 'can_edit', 'not_onboarded', 'worked', 'updated'],
      typed: [2, 5],
      reloadAfter: 3,
    });
    expect(outcome).toBe('resolved');
    const { page } = chat;
    expect(await page.locator('html').getAttribute('lang')).toBe('uk');
    expect(await page.locator('#start-over').innerText()).toBe(translator.t('uk', 'webchat:page.startOver'));
    await chat.showLatest();
    await page.screenshot({ path: `${RESULTS_DIR}/webchat-uk.png` });

    // Start over: a new conversation, in the same language, with only the first question on screen.
    await page.locator('#start-over').click();
    const fresh = new ShadowFlow('uk');
    await chat.expectStep(fresh.lines(), fresh.labels());
    expect(await chat.botCount()).toBe(1);
    expect(await page.locator(USER_MESSAGES).count()).toBe(0);
    await page.context().close();
  }, 180_000);

  it('switches a Ukrainian page to English and walks to the admin portal (organization already onboarded)', async () => {
    const { chat, outcome } = await walk({
      locale: 'en',
      startIn: 'uk',
      path: ['change_contact', 'closed', 'can_edit', 'onboarded'],
      typed: [1],
    });
    expect(outcome).toBe('redirected_admin');
    const { page } = chat;
    // The admin portal is offered as a real link.
    expect(await page.locator('#webchat a[href^="https://admin.webex.com"]').last().isVisible()).toBe(true);
    await chat.showLatest();
    await page.screenshot({ path: `${RESULTS_DIR}/webchat-en.png` });
    await page.context().close();
  }, 180_000);

  it('opens a support case with an attached screenshot, confirming the summary on an Adaptive Card', async () => {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 1300 } });
    const page = await context.newPage();
    const chat = new ChatPage(page);
    const t = (key: string, params?: Record<string, unknown>) => translator.t('en', key, params);
    const start = new ShadowFlow('en');
    await page.goto(`${bot.url}/?lang=en`);
    await chat.expectStep(start.lines(), start.labels());

    // "talk to support" is understood at any question and hands over to the case intake.
    const answers: [string, string][] = [
      ['talk to support', 'support-case:orderNumber.prompt'],
      ['104857391', 'support-case:subscriptionId.prompt'],
      ['Sub123456', 'support-case:currentEmail.prompt'],
      ['old.contact@example.com', 'support-case:attachments.prompt'],
    ];
    // The new-email prompt names the current one; the attachments prompt follows it.
    answers.splice(3, 0, ['old.contact@example.com', 'support-case:newEmail.prompt']);
    answers[4] = ['new.contact@example.com', 'support-case:attachments.prompt'];
    for (const [typed, next] of answers) {
      const before = await chat.botCount();
      await chat.type(typed);
      await expect.poll(() => chat.botCount(), { timeout: 15_000 }).toBeGreaterThan(before);
      const expected = next === 'support-case:newEmail.prompt' ? t(next, { current: 'old.contact@example.com' }) : t(next);
      await expect.poll(() => chat.lastBotText(), { timeout: 15_000 }).toContain(normalise(expected));
    }

    // The paper clip: Web Chat uploads the file to /directline/.../upload; the page shows it as sent.
    const before = await chat.botCount();
    await page.locator('#webchat input[type=file]').setInputFiles({ name: 'ccw-error.png', mimeType: 'image/png', buffer: PNG });
    await expect.poll(() => chat.botCount(), { timeout: 15_000 }).toBeGreaterThan(before);
    await expect.poll(() => chat.lastBotText(), { timeout: 15_000 }).toContain('ccw-error.png');
    const shown = page.locator(`#webchat .webchat__stacked-layout--from-user img[src*="/directline/attachments/"]`);
    await expect.poll(() => shown.count(), { timeout: 15_000 }).toBe(1);

    await chat.press(t('support-case:attachments.done'));
    // The summary has facts, so Web Chat gets it as an Adaptive Card with a FactSet and submit buttons.
    const card = page.locator('#webchat .ac-adaptiveCard').last();
    await expect.poll(() => card.count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(async () => normalise(await card.innerText())).toContain(normalise(t('support-case:summary.prompt')));
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${RESULTS_DIR}/webchat-case-summary-en.png` });
    const cardText = normalise(await card.innerText());
    for (const value of ['104857391', 'Sub123456', 'new.contact@example.com']) expect(cardText).toContain(value);

    const beforeConfirm = await chat.botCount();
    const cards = page.locator('#webchat .ac-adaptiveCard');
    const cardsBefore = await cards.count();
    await card.getByRole('button', { name: t('support-case:summary.confirm'), exact: true }).click();
    await expect.poll(() => chat.botCount(), { timeout: 15_000 }).toBeGreaterThan(beforeConfirm);
    // The pressed card is swapped in place for its answered version, without buttons (as in Teams).
    const answered = normalise(translator.t('en', 'botframework:card.yourAnswer', { label: t('support-case:summary.confirm') }));
    await expect.poll(async () => normalise(await cards.last().innerText()), { timeout: 15_000 }).toContain(answered);
    expect(await cards.count()).toBe(cardsBefore);
    expect(await cards.last().locator('button').count()).toBe(0);
    const bubbles = await page.locator(BOT_MESSAGES).allInnerTexts();
    expect(normalise(bubbles.at(-2) ?? '')).toContain(answered);
    const [lead] = t('support-case:opened.reference', { reference: '\u0000' }).split('\u0000');
    await expect.poll(() => chat.lastBotText(), { timeout: 15_000 }).toContain(normalise(lead!));
    const reference = /([A-Z]{2,}[-\w]*\d+)/.exec((await chat.lastBotText()).slice(normalise(lead!).length))?.[1];
    expect(reference, 'the page shows a case reference').toBeDefined();

    // The case in the store carries the screenshot's URL, and that URL serves the file.
    const db = (bot.app.store as unknown as { db: Kysely<{ cases: { reference: string; record: unknown } }> }).db;
    const row = await db.selectFrom('cases').select(['reference', 'record']).where('reference', '=', reference!).executeTakeFirst();
    expect(row, `case ${reference} is in the store`).toBeDefined();
    const record = fromJson(row!.record) as { attachments: { name: string; url: string; contentType: string }[] };
    expect(record.attachments).toHaveLength(1);
    expect(record.attachments[0]).toMatchObject({ name: 'ccw-error.png', contentType: 'image/png' });
    const file = await fetch(record.attachments[0]!.url);
    expect(Buffer.from(await file.arrayBuffer()).equals(PNG)).toBe(true);

    await chat.showLatest();
    await page.screenshot({ path: `${RESULTS_DIR}/webchat-case-en.png` });
    await context.close();
  }, 180_000);
});
