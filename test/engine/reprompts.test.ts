/**
 * Re-prompts that tell the truth (issue 16, "Re-prompts"): an option number the step does not have is
 * named as such; a notice from an earlier turn ("nothing to go back to", "didn't catch that") is
 * shown once; the greeting opens the run only; the re-prompt asks for what the bot does take.
 * Through the real engine, flow and translations, in both languages, as the person reads it.
 */
import { describe, expect, it } from 'vitest';
import type { Locale } from '../../dialogs/flow';
import type { TurnResult } from '../../src/engine/types';
import { conversation, translator, useSqliteEngine } from '../dialogs/provisioning-contact/helpers';

const env = useSqliteEngine();

const shown = (r: TurnResult): string[] => r.messages.flatMap((m) => m.paragraphs);

const WORDS: Record<Locale, { back: string; help: string; language: string; miss: string; smallTalk: string; clarify: string }> = {
  en: { back: 'back', help: 'help', language: 'language', miss: 'purple giraffe', smallTalk: 'ok cool', clarify: 'do I change the contact or check my change?' },
  uk: { back: 'назад', help: 'допомога', language: 'мова', miss: 'фіолетовий жираф', smallTalk: 'ок, ясно', clarify: 'змінити контакт чи перевірити зміну?' },
};

describe.each(['en', 'uk'] as const)('re-prompts (%s)', (locale) => {
  const t = (key: string, params?: Record<string, unknown>) => translator.t(locale, key, params);
  const w = WORDS[locale];
  const greeting = () => t('provisioning-contact:entry.greeting');
  const question = () => t('provisioning-contact:entry.prompt');
  /** The numbered list a re-prompt appends: "1) …; 2) …". */
  const listed = (r: TurnResult) =>
    r.messages[0]!.choices.map((c, i) => t('common:listedOption', { n: i + 1, label: c.label })).join(t('common:listedOptionSeparator'));

  it('names an option number the question does not have, lists the ones it has, and does not move', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const r = await c.say('7');
    expect(r.step).toBe('entry');
    expect(shown(r)).toEqual([`${t('common:noSuchOption', { n: 7, last: 3 })} ${listed(r)}`, question()]);
    expect(shown(r).join(' ')).not.toContain(t('provisioning-contact:common.reprompt', { count: 3 }));
    // The numbers it names are taken.
    expect((await c.say('3')).step).toBe('verifyUpdate');
  });

  it('counts the two options of a pending clarifying question, and asks it again', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const asked = await c.say(w.clarify);
    const r = await c.say('4');
    expect(shown(r)).toEqual([`${t('common:noSuchOption', { n: 4, last: 2 })} ${listed(r)}`, ...shown(asked)]);
    expect(r.messages[0]!.choices.map((x) => x.id)).toEqual(asked.messages[0]!.choices.map((x) => x.id));
  });

  it('names a missing number at an ending without starting the guide again', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    await c.press('never_arrived');
    const ending = await c.press('found');
    const r = await c.say('2');
    expect(r.step).toBe(ending.step);
    expect(shown(r)).toEqual([`${t('common:noSuchOptionOnly', { n: 2 })} ${listed(r)}`]);
  });

  it('greets only at the start: a miss at the first question re-prompts without the greeting', async () => {
    const c = conversation(env.engine, locale);
    expect(shown(await c.greet())).toEqual([greeting(), question()]);
    const r = await c.say(w.miss);
    expect(shown(r)).toEqual([`${t('provisioning-contact:common.reprompt', { count: 3 })} ${listed(r)}`, question()]);
    const again = await c.say(w.miss);
    expect(shown(again)).not.toContain(greeting());
  });

  it('shows "nothing to go back to" once: not with help, small talk or the next answer', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const nothing = t('provisioning-contact:common.nothingToUndo');
    expect(shown(await c.say(w.back))).toEqual([nothing, question()]);
    expect(shown(await c.say(w.help))).toEqual([t('provisioning-contact:entry.help'), question()]);
    expect(shown(await c.say(w.smallTalk))).toEqual([t('common:smallTalk.ok'), question()]);
    expect(shown(await c.press('never_arrived'))).not.toContain(nothing);
  });

  it('shows a re-prompt once: not after help, small talk, a language switch or going back', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const asked = await c.press('never_arrived');
    const missed = await c.say(w.miss);
    expect(shown(missed)).toEqual([`${t('provisioning-contact:common.reprompt', { count: 2 })} ${listed(missed)}`, ...shown(asked)]);
    expect(shown(await c.say(w.help))).toEqual([t('provisioning-contact:spamCheck.help'), ...shown(asked)]);
    expect(shown(await c.say(w.smallTalk))).toEqual([t('common:smallTalk.ok'), ...shown(asked)]);
    const switched = await c.say(w.language);
    const other = switched.locale;
    expect(other).not.toBe(locale);
    expect(shown(switched)[0]).toBe(translator.t(other, 'common:languageSwitched'));
    expect(shown(switched)).toHaveLength(shown(asked).length + 1);
    const back = await c.say(WORDS[other].back);
    expect(shown(back)).toEqual([translator.t(other, 'provisioning-contact:entry.prompt')]);
  });

  it('does not carry a re-prompt to "back" at the first question', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    await c.say(w.miss);
    expect(shown(await c.say(w.back))).toEqual([t('provisioning-contact:common.nothingToUndo'), question()]);
  });

  it('asks for what it takes: the number the re-prompt asks for is understood', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    await c.press('change_contact');
    const missed = await c.say(w.miss);
    expect(shown(missed)[0]).toContain('1–3');
    expect((await c.say('2')).step).toBe('closedOrder');
  });

  it('puts the first question anew, greeting and all, after a language switch', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const r = await c.say(w.language);
    const other = r.locale;
    expect(shown(r)).toEqual([
      translator.t(other, 'common:languageSwitched'),
      translator.t(other, 'provisioning-contact:entry.greeting'),
      translator.t(other, 'provisioning-contact:entry.prompt'),
    ]);
  });
});
