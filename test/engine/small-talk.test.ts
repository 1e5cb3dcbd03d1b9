/**
 * Small talk at any step (issue 16, "Greetings and thanks"): a greeting, thanks, "ok", "wait" or
 * "who are you" gets a short answer and the question that stood, never "didn't catch that"; thanks
 * at an ending is acknowledged and never starts the guide again. Through the real engine, flows,
 * recogniser and translations, in both languages, as the person reads it.
 */
import { describe, expect, it } from 'vitest';
import type { Locale } from '../../dialogs/flow';
import { supportCaseFlow } from '../../dialogs/support-case';
import type { TurnResult } from '../../src/engine/types';
import { conversation, translator, useSqliteEngine } from '../dialogs/provisioning-contact/helpers';

const env = useSqliteEngine([supportCaseFlow]);

const shown = (r: TurnResult): string[] => r.messages.flatMap((m) => m.paragraphs);
const ids = (r: TurnResult): string[] => r.messages[0]!.choices.map((c) => c.id);

/** What people type, in their language (none of it an option of any step). */
const SAYS: Record<Locale, { greeting: string; thanks: string; ok: string; wait: string; identity: string; thanksAtEnd: string; greetingAtEnd: string; found: string; thanksAndAnswer: string; whoIsThis: string; firstMessage: string; clarify: string }> = {
  en: {
    greeting: 'hey, good morning',
    thanks: 'thanks a lot!',
    ok: 'okay',
    wait: 'hang on',
    identity: 'am I talking to a bot?',
    thanksAtEnd: 'thank you so much',
    greetingAtEnd: 'hello!',
    found: 'yes, it was in junk',
    thanksAndAnswer: 'thanks, found it',
    whoIsThis: 'who is this',
    firstMessage: 'are you a robot?',
    clarify: 'do I change the contact or check my change?',
  },
  uk: {
    greeting: 'добрий день',
    thanks: 'щиро дякую',
    ok: 'гаразд',
    wait: 'зачекайте хвилинку',
    identity: 'з ким я говорю?',
    thanksAtEnd: 'дуже дякую!',
    greetingAtEnd: 'вітаю',
    found: 'так, був у спамі',
    thanksAndAnswer: 'дякую, знайшли',
    whoIsThis: 'хто це?',
    firstMessage: 'ви робот?',
    clarify: 'змінити контакт чи перевірити зміну?',
  },
};

describe.each(['en', 'uk'] as const)('small talk (%s)', (locale) => {
  const t = (key: string, params?: Record<string, unknown>) => translator.t(locale, key, params);
  const says = SAYS[locale];
  const greeting = () => t('provisioning-contact:entry.greeting');
  const question = () => t('provisioning-contact:entry.prompt');

  it('answers a greeting after the bot greeted with a short hello and the first question, not the greeting nor a re-prompt', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const r = await c.say(says.greeting);
    expect(r.step).toBe('entry');
    expect(shown(r)).toEqual([t('common:smallTalk.greeting'), question()]);
    expect(ids(r)).toEqual(['never_arrived', 'change_contact', 'check_change']);
  });

  it.each(['thanks', 'ok', 'wait', 'identity'] as const)('answers "%s" at a later step and asks that step again, which still takes its answer', async (talk) => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const asked = await c.press('never_arrived');
    const r = await c.say(says[talk]);
    expect(r.step).toBe('spamCheck');
    expect(shown(r)).toEqual([t(`common:smallTalk.${talk}`), ...shown(asked)]);
    expect((await c.say(says.found)).step).toBe('emailFound');
  });

  it('takes an answer with thanks in it as the answer', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    await c.press('never_arrived');
    expect((await c.say(says.thanksAndAnswer)).step).toBe('emailFound');
  });

  it('acknowledges thanks at an ending and stays there; a greeting there says how to begin again; "start over" still does', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    await c.press('never_arrived');
    const ending = await c.say(says.found);
    expect(ending.outcome).toBe('resolved');

    const thanked = await c.say(says.thanksAtEnd);
    expect(thanked.step).toBe('emailFound');
    expect(shown(thanked)).toEqual([t('common:smallTalk.atEnd.thanks')]);
    expect(shown(thanked)).not.toContain(t('common:startedAgain'));
    expect(ids(thanked)).toEqual(ids(ending));

    const greeted = await c.say(says.greetingAtEnd);
    expect(greeted.step).toBe('emailFound');
    expect(shown(greeted)).toEqual([t('common:smallTalk.atEnd.greeting')]);

    const again = await c.say(locale === 'en' ? 'start over' : 'спочатку');
    expect(again.step).toBe('entry');
    expect(shown(again)).toEqual([t('common:startedAgain'), greeting(), question()]);
  });

  it('says who it is to "who is this" (not taken for a typo of the help command)', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    await c.press('change_contact');
    const r = await c.say(says.whoIsThis);
    expect(r.step).toBe('orderLineStatus');
    expect(shown(r)[0]).toBe(t('common:smallTalk.identity'));
    expect(shown(r)).not.toContain(t('provisioning-contact:orderLineStatus.help'));
  });

  it('answers "are you a robot?" as a first message before greeting', async () => {
    const r = await conversation(env.engine, locale).say(says.firstMessage);
    expect(r.step).toBe('entry');
    expect(shown(r)).toEqual([t('common:smallTalk.identity'), greeting(), question()]);
  });

  it('asks a pending clarifying question again after small talk, with its two buttons', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const asked = await c.say(says.clarify);
    expect(ids(asked)).toHaveLength(2);
    const r = await c.say(says.wait);
    expect(shown(r)).toEqual([t('common:smallTalk.wait'), ...shown(asked)]);
    expect(ids(r)).toEqual(ids(asked));
    expect((await c.say('2')).step).toBe(ids(asked)[1] === 'check_change' ? 'verifyUpdate' : 'orderLineStatus');
  });

  it('answers thanks where the support-case intake waits for typed text, without taking it as the order number', async () => {
    const c = conversation(env.engine, locale);
    await c.greet();
    await c.press('change_contact');
    const asked = await c.say(locale === 'en' ? 'support' : 'підтримка');
    expect(asked.step).toBe('orderNumber');
    const r = await c.say(says.thanks);
    expect(r.step).toBe('orderNumber');
    expect(shown(r)[0]).toBe(t('common:smallTalk.thanks'));
    expect(shown(r).at(-1)).toBe(shown(asked).at(-1));
    expect((await c.say('104857391')).step).toBe('subscriptionId');
  });
});
