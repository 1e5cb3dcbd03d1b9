/**
 * A message that already answers questions (issue 16, "What failed"): through the real engine, the
 * real translator and recogniser and a SQLite store, in both languages. The flow skips what the
 * message answered, says so in one line, asks the next question, and BACK walks back one question
 * at a time. Only clear answers are taken; a contradiction stops the skipping there.
 */
import { describe, expect, it } from 'vitest';
import type { Locale } from '../../../dialogs/flow';
import type { TurnResult } from '../../../src/engine/types';
import { conversation, translator, useSqliteEngine } from './helpers';

const env = useSqliteEngine();

const prompt = (locale: Locale, step: string) => translator.t(locale, `provisioning-contact:${step}.prompt`);
const paragraphs = (r: TurnResult) => r.messages[0]!.paragraphs;

/** The answers the flow recorded, in order, as `step:choice` (from the stored snapshot). */
async function trailOf(r: TurnResult): Promise<string[]> {
  const { conversation: stored } = await env.store.loadTurn({ conversationKey: r.conversationKey, userKey: 'test:nobody' });
  const context = (stored!.snapshot as { context: { trail: { step: string; choice: string }[] } }).context;
  return context.trail.map((e) => `${e.step}:${e.choice}`);
}

interface Skipping {
  /** Answered before the message (it then comes at a later question). */
  before: string[];
  says: string;
  /** The one-line summary, the first paragraph of the answer. */
  summary: string;
  /** What the flow recorded for the message: the question asked, then each one skipped. */
  recorded: string[];
  /** Where the flow stands after the message. */
  next: string;
  /** The questions BACK asks again, one press each, last answered first. */
  back: string[];
}

const skipping: Record<Locale, Record<string, Skipping>> = {
  en: {
    'the first message answers the spam check and the line status': {
      before: [],
      says: 'our customer never got the provisioning email, they checked spam already, and the order line shows Closed',
      summary: "From your message I understood that the email isn't in spam or the mail filters and the line is “Closed”, so I've skipped those questions.",
      recorded: ['entry:never_arrived', 'spamCheck:not_found', 'orderLineStatus:closed'],
      next: 'closedOrder',
      back: ['orderLineStatus', 'spamCheck', 'entry'],
    },
    'the first message answers the status, the edit access and the point of no return': {
      before: [],
      says: "wrong provisioning contact on the order. status is awaiting provisioning details, I can edit it and the org isn't onboarded yet",
      summary:
        "From your message I understood that the line is “Awaiting Provisioning Details”, you can edit the order, and the organization isn't onboarded to Control Hub yet, so I've skipped those questions.",
      recorded: ['entry:change_contact', 'orderLineStatus:awaiting', 'editAccess:can_edit', 'ponrCheck:not_onboarded'],
      next: 'editSteps',
      back: ['ponrCheck', 'editAccess', 'orderLineStatus', 'entry'],
    },
    'a later message answers the spam check and the line status': {
      before: ['the provisioning email never arrived'],
      says: 'no, nothing in junk either, and the line says Closed',
      summary: "From your message I understood that the line is “Closed”, so I've skipped that question.",
      recorded: ['entry:never_arrived', 'spamCheck:not_found', 'orderLineStatus:closed'],
      next: 'closedOrder',
      back: ['orderLineStatus', 'spamCheck', 'entry'],
    },
  },
  uk: {
    'the first message answers the spam check and the line status': {
      before: [],
      says: 'клієнт так і не отримав лист активації, спам уже перевірили, рядок у статусі Closed',
      summary: 'З вашого повідомлення я зрозумів, що у спамі й поштових фільтрах листа немає і рядок має статус «Closed», тож ці запитання пропускаю.',
      recorded: ['entry:never_arrived', 'spamCheck:not_found', 'orderLineStatus:closed'],
      next: 'closedOrder',
      back: ['orderLineStatus', 'spamCheck', 'entry'],
    },
    'the first message answers the status and the edit access, which ends the guide': {
      before: [],
      says: 'треба змінити контакт у замовленні, статус closed, доступу на редагування в мене нема',
      summary: 'З вашого повідомлення я зрозумів, що рядок має статус «Closed» і доступу до редагування замовлення у вас немає, тож ці запитання пропускаю.',
      recorded: ['entry:change_contact', 'orderLineStatus:closed', 'closedOrder:cannot_edit'],
      next: 'forwardToOwner',
      back: ['closedOrder', 'orderLineStatus', 'entry'],
    },
    'a later message answers the spam check and the line status': {
      before: ['лист активації не прийшов'],
      says: 'ні, у спамі теж нема, а рядок у статусі closed',
      summary: 'З вашого повідомлення я зрозумів, що рядок має статус «Closed», тож це запитання пропускаю.',
      recorded: ['entry:never_arrived', 'spamCheck:not_found', 'orderLineStatus:closed'],
      next: 'closedOrder',
      back: ['orderLineStatus', 'spamCheck', 'entry'],
    },
  },
};

describe('a message that answers several questions', () => {
  for (const locale of ['en', 'uk'] as const) {
    for (const [name, s] of Object.entries(skipping[locale])) {
      it(`${locale}: ${name}: skipped, said in one line, the next question asked, BACK one step at a time`, async () => {
        const c = conversation(env.engine, locale);
        await c.greet();
        for (const said of s.before) await c.say(said);
        const r = await c.say(s.says);

        expect(r.step).toBe(s.next);
        expect(paragraphs(r)[0]).toBe(s.summary);
        expect(paragraphs(r).filter((p) => p === s.summary)).toHaveLength(1);
        const next = `provisioning-contact:${s.next}.prompt`;
        if (translator.has(locale, next)) expect(paragraphs(r).at(-1)).toBe(translator.t(locale, next));
        expect(await trailOf(r)).toEqual(s.recorded);

        for (const step of s.back) {
          const b = await c.say(locale === 'uk' ? 'назад' : 'back');
          expect(b.step).toBe(step);
          expect(paragraphs(b).at(-1)).toBe(prompt(locale, step));
          expect(paragraphs(b)).not.toContain(s.summary);
        }
      });
    }
  }

  it.each([
    ['en', 'the provisioning email never arrived, the line is closed. they checked spam, nothing there'],
    ['uk', 'лист активації не прийшов. статус рядка closed, у спамі нема'],
  ] as const)('%s: takes the answers in the order the guide asks, whatever order the message gives them', async (locale, said) => {
    // A first message before any greeting (Teams, Webex: the person writes first).
    const r = await conversation(env.engine, locale).say(said);
    expect(r.step).toBe('closedOrder');
    expect(await trailOf(r)).toEqual(['entry:never_arrived', 'spamCheck:not_found', 'orderLineStatus:closed']);
  });
});

describe('only clear answers are taken', () => {
  it.each([
    ['en', 'the welcome email never arrived, not in spam either, the line was awaiting but now it is closed', "From your message I understood that the email isn't in spam or the mail filters, so I've skipped that question."],
    ['uk', 'лист не прийшов, у спамі нема, статус був pending, але тепер closed', 'З вашого повідомлення я зрозумів, що у спамі й поштових фільтрах листа немає, тож це запитання пропускаю.'],
  ] as const)('%s: a question the message answers two ways is asked, the skipping stops there', async (locale, said, summary) => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const r = await c.say(said);
    expect(r.step).toBe('orderLineStatus');
    expect(paragraphs(r)[0]).toBe(summary);
    expect(paragraphs(r).at(-1)).toBe(prompt(locale, 'orderLineStatus'));
  });

  it.each([
    ['en', 'my provisioning email never arrived, no'],
    ['uk', 'лист активації не прийшов, ні'],
  ] as const)('%s: a bare "no" answers no question but the one asked', async (locale, said) => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const r = await c.say(said);
    expect(r.step).toBe('spamCheck');
    expect(await trailOf(r)).toEqual(['entry:never_arrived']);
    expect(paragraphs(r).join('\n')).not.toContain(locale === 'uk' ? 'З вашого повідомлення' : 'From your message');
  });
});

describe('answers to questions further on', () => {
  it.each([
    ['en', 'the provisioning email never arrived, the line is closed', { press: 'not_found' }, "From your message I understood that the line is “Closed”, so I've skipped that question."],
    ['uk', 'лист активації так і не прийшов, статус рядка closed', { say: 'ні, нема' }, 'З вашого повідомлення я зрозумів, що рядок має статус «Closed», тож це запитання пропускаю.'],
  ] as const)('%s: wait until the question in between is answered, then that question is skipped', async (locale, said, then, summary) => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const first = await c.say(said);
    expect(first.step).toBe('spamCheck');
    expect(paragraphs(first).join('\n')).not.toContain(summary);

    const r = 'press' in then ? await c.press(then.press) : await c.say(then.say);
    expect(r.step).toBe('closedOrder');
    expect(paragraphs(r)[0]).toBe(summary);
    expect(await trailOf(r)).toEqual(['entry:never_arrived', 'spamCheck:not_found', 'orderLineStatus:closed']);
    expect((await c.say(locale === 'uk' ? 'назад' : 'back')).step).toBe('orderLineStatus');
  });

  it('are dropped when the answer in between goes another way', async () => {
    const c = conversation(env.engine, 'en');
    await c.greet();
    await c.say('the provisioning email never arrived, the line is closed');
    expect((await c.press('found')).step).toBe('emailFound');
  });

  it.each([
    ['en', 'yes, checked spam, and the line says closed'],
    ['uk', 'так, у спамі дивились, а рядок закритий'],
  ] as const)(
    '%s: an answer that would end the guide while the rest of the message goes on gets a clarifying question, and the rest is kept',
    async (locale, said) => {
      const c = conversation(env.engine, locale);
      await c.greet();
      await c.say(locale === 'uk' ? 'лист не прийшов' : 'the provisioning email never arrived');
      const asked = await c.say(said);
      expect(asked.step).toBe('spamCheck');
      expect(asked.messages[0]!.choices.map((x) => x.id).sort()).toEqual(['found', 'not_found']);

      const r = await c.press('not_found');
      expect(r.step).toBe('closedOrder');
      expect(await trailOf(r)).toEqual(['entry:never_arrived', 'spamCheck:not_found', 'orderLineStatus:closed']);
    },
  );
});
