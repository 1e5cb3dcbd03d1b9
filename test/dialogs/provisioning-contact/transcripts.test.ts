/**
 * Conversations as a person has them: `[person says, bot answers]` through the real engine, the
 * real translator and a real SQLite store. `null` is the bot greeting a new conversation.
 */
import { describe, expect, it } from 'vitest';
import type { Locale } from '../../../dialogs/flow';
import { QUESTION_STEPS } from '../../../dialogs/provisioning-contact/machine';
import { supportCaseFlow } from '../../../dialogs/support-case';
import { choicesOf, conversation, pathToEachState, sqliteEngine, text, translator, useSqliteEngine } from './helpers';

type Transcript = [says: string | null, answers: string][];

const transcripts: Record<Locale, Record<'resolved' | 'redirected_admin' | 'forwarded_to_owner' | 'needs_case', Transcript>> = {
  en: {
    resolved: [
      [null, 'What do you need?'],
      ['my provisioning email never arrived', 'Did they find the email?'],
      ['yes, in spam', 'Great! The provisioning contact can now open the email and follow its link to set up the service.'],
    ],
    redirected_admin: [
      [null, 'What do you need?'],
      ['2', 'What is the status of the order line in CCW?'],
      ['pending', 'Can you edit this order in CCW?'],
      ['yes', 'Has the organization already been onboarded to Control Hub?'],
      ["yes, it's onboarded", 'signs in at https://admin.webex.com and completes the setup there'],
    ],
    forwarded_to_owner: [
      [null, 'What do you need?'],
      ['I need to change the contact', 'What is the status of the order line in CCW?'],
      ["it's closd", '(7 days for A-Flex and A-Flex-3, 30 days for other Collaboration offers), the order line closes in CCW.'],
      ["I don't have access", 'Could you please update the Provisioning Contact Email on our Webex order'],
    ],
    needs_case: [
      [null, 'What do you need?'],
      ['change the contact', 'What is the status of the order line in CCW?'],
      ['awaiting provisioning details', 'Can you edit this order in CCW?'],
      ['yes', 'Has the organization already been onboarded to Control Hub?'],
      ['no', 'tick “Apply to all lines”'],
      ["it didn't work", 'Which fix are you trying now?'],
      ['I cleared the cache', 'Did it work this time?'],
      ['no', "That's 1 fix tried and the edit still fails."],
      ['another browser', 'Open CCW in a different browser'],
      ['no', "That's 2 fixes tried and the edit still fails."],
      ['incognito', 'Open a private (incognito) window'],
      ['still fails', 'The edit still fails after the browser fixes, so this needs a support engineer.'],
    ],
  },
  uk: {
    resolved: [
      [null, 'Чим можу допомогти?'],
      ['лист так і не прийшов', 'Лист знайшовся?'],
      ['так, був у спамі', 'Чудово! Тепер контактна особа може відкрити лист і перейти за посиланням у ньому, щоб налаштувати послугу.'],
    ],
    redirected_admin: [
      [null, 'Чим можу допомогти?'],
      ['2', 'Який статус має рядок замовлення в CCW?'],
      ['очікує', 'Ви можете редагувати це замовлення в CCW?'],
      ['так', 'Організацію вже підключено до Control Hub?'],
      ['так, вже підключено', 'входить на https://admin.webex.com і завершує налаштування там'],
    ],
    forwarded_to_owner: [
      [null, 'Чим можу допомогти?'],
      ['треба змінити контакт', 'Який статус має рядок замовлення в CCW?'],
      ['закрите', '(7 днів для A-Flex і A-Flex-3, 30 днів для інших пропозицій Collaboration), рядок замовлення в CCW закривається.'],
      ['не маю доступу', 'Прошу оновити адресу в полі «Provisioning Contact Email» у нашому замовленні Webex'],
    ],
    needs_case: [
      [null, 'Чим можу допомогти?'],
      ['змінити адресу', 'Який статус має рядок замовлення в CCW?'],
      ['очікує', 'Ви можете редагувати це замовлення в CCW?'],
      ['так', 'Організацію вже підключено до Control Hub?'],
      ['ні', 'позначте «Apply to all lines»'],
      ['не вийшло', 'Який спосіб пробуєте зараз?'],
      ['почистив кеш', 'Цього разу вийшло?'],
      ['ні', 'Ви вже спробували 1 спосіб, а зміна досі не зберігається.'],
      ['інший браузер', 'Відкрийте CCW в іншому браузері'],
      ['ні', 'Ви вже спробували 2 способи, а зміна досі не зберігається.'],
      ['інкогніто', 'Відкрийте приватне вікно (інкогніто)'],
      ['знову не зберігається', 'тут потрібен інженер підтримки'],
    ],
  },
};

/** The other ways to reach an ending: a checked change, a closed order's pop-up, a status not found. */
const moreTranscripts: Record<Locale, { name: string; outcome: string; transcript: Transcript }[]> = {
  en: [
    {
      name: 'resolved by checking a change in Transaction Manager',
      outcome: 'resolved',
      transcript: [
        [null, 'What do you need?'],
        ['3', 'Select the item “Provisioning Email Update” and search for the subscription.'],
        ['yes', 'The order now names the new provisioning contact.'],
      ],
    },
    {
      name: 'redirected by the pop-up on a closed order',
      outcome: 'redirected_admin',
      transcript: [
        [null, 'What do you need?'],
        ['2', 'What is the status of the order line in CCW?'],
        ['2', 'its “Click here” link takes you to the Cloud/SaaS Subscription page'],
        ['1', 'Has the organization already been onboarded to Control Hub?'],
        ['2', 'On the Cloud/SaaS Subscription page:'],
        ['2', 'Nothing needs to change in CCW: the provisioning contact or an administrator of the organization signs in directly at https://admin.webex.com'],
      ],
    },
    {
      name: 'a case when the order line status is not found',
      outcome: 'needs_case',
      transcript: [
        [null, 'What do you need?'],
        ['2', 'What is the status of the order line in CCW?'],
        ['3', 'If the line shows any other status, choose “I can\'t find it, or it\'s another status”'],
        ['3', 'The order line status is unknown, or it is neither “Awaiting Provisioning Details” nor “Closed”'],
      ],
    },
  ],
  uk: [
    {
      name: 'resolved by checking a change in Transaction Manager',
      outcome: 'resolved',
      transcript: [
        [null, 'Чим можу допомогти?'],
        ['3', 'Виберіть пункт «Provisioning Email Update» і знайдіть підписку.'],
        ['так', 'Тепер у замовленні вказано нову контактну особу.'],
      ],
    },
    {
      name: 'redirected by the pop-up on a closed order',
      outcome: 'redirected_admin',
      transcript: [
        [null, 'Чим можу допомогти?'],
        ['2', 'Який статус має рядок замовлення в CCW?'],
        ['2', 'посилання «Click here» у ньому веде на сторінку Cloud/SaaS Subscription'],
        ['1', 'Організацію вже підключено до Control Hub?'],
        ['2', 'На сторінці Cloud/SaaS Subscription:'],
        ['2', 'У CCW нічого змінювати не треба: контактна особа або адміністратор організації входить безпосередньо на https://admin.webex.com'],
      ],
    },
    {
      name: 'a case when the order line status is not found',
      outcome: 'needs_case',
      transcript: [
        [null, 'Чим можу допомогти?'],
        ['2', 'Який статус має рядок замовлення в CCW?'],
        ['3', 'Якщо в рядку інший статус, виберіть «Не можу знайти або статус інший»'],
        ['3', 'Статус рядка невідомий або це не «Awaiting Provisioning Details» і не «Closed»'],
      ],
    },
  ],
};

const { engine } = useSqliteEngine();

describe('transcripts', () => {
  for (const locale of ['en', 'uk'] as const) {
    for (const [outcome, transcript] of Object.entries(transcripts[locale])) {
      it(`${locale}: ${outcome}`, async () => {
        const c = conversation(engine, locale);
        for (const [says, answers] of transcript) {
          const r = says === null ? await c.greet() : await c.say(says);
          expect(text(r), `after "${says}"`).toContain(answers);
          expect(r.locale).toBe(locale);
        }
        expect(c.last!.outcome).toBe(outcome);
      });
    }
  }

  for (const locale of ['en', 'uk'] as const) {
    for (const { name, outcome, transcript } of moreTranscripts[locale]) {
      it(`${locale}: ${name}`, async () => {
        const c = conversation(engine, locale);
        for (const [says, answers] of transcript) {
          const r = says === null ? await c.greet() : await c.say(says);
          expect(text(r), `after "${says}"`).toContain(answers);
        }
        expect(c.last!.outcome).toBe(outcome);
      });
    }
  }

  it('en: the case hand-off shows what is known so far as facts', async () => {
    const c = conversation(engine, 'en');
    await c.greet();
    for (const [says] of transcripts.en.needs_case.slice(1)) await c.say(says!);
    expect(c.last!.messages[0]!.facts).toEqual([
      { label: 'Order line status', value: 'Awaiting Provisioning Details' },
      { label: 'Can edit the order in CCW', value: 'Yes' },
      { label: 'Organization onboarded to Control Hub (PONR passed)', value: 'No' },
      { label: 'Browser fixes tried', value: '3' },
    ]);
    expect(c.last!.messages[0]!.links).toEqual([{ label: 'Cisco Support Case Manager', url: 'https://www.cisco.com/go/cs' }]);
  });
});

describe('talk to support after an ending', () => {
  it('uk: hands over to the support-case intake with what was known, instead of starting over', async () => {
    const intake = await sqliteEngine([supportCaseFlow]);
    try {
      const c = conversation(intake.engine, 'uk');
      await c.greet();
      for (const says of ['змінити контакт', 'очікує', 'не маю доступу']) await c.say(says);
      expect(c.last!.outcome).toBe('forwarded_to_owner');
      const r = await c.press('cmd.support');
      expect(text(r)).not.toContain(translator.t('uk', 'common:startedAgain'));
      const stored = await intake.store.loadConversation(r.conversationKey);
      expect(stored!.flowId).toBe('support-case');
      expect(JSON.stringify(stored!.snapshot)).toContain('"canEditInCcw":"no"');
    } finally {
      await intake.close();
    }
  });
});

describe('global commands from every question state, in both languages', () => {
  const paths = pathToEachState();
  const words = {
    en: { back: 'back', restart: 'start over', help: 'help', language: 'language', support: 'talk to support' },
    uk: { back: 'назад', restart: 'почати спочатку', help: 'допомога', language: 'мова', support: 'підтримка' },
  };

  for (const locale of ['en', 'uk'] as const) {
    const other = locale === 'en' ? 'uk' : 'en';
    it.each(QUESTION_STEPS.map((s) => [s]))(`${locale}: %s`, async (step) => {
      const ids = choicesOf(paths.find((p) => p.state.value === step)!);
      const at = async () => {
        const c = conversation(engine, locale);
        await c.greet();
        for (const id of ids) await c.press(id);
        expect(c.last!.step).toBe(step);
        return c;
      };

      const back = await (await at()).say(words[locale].back);
      const greeting = translator.t(locale, 'provisioning-contact:entry.greeting');
      if (ids.length === 0) {
        expect(back.step).toBe('entry');
        expect(text(back)).toContain(translator.t(locale, 'provisioning-contact:common.nothingToUndo'));
        expect(text(back)).not.toContain(greeting);
      } else {
        const previous = conversation(engine, locale);
        await previous.greet();
        for (const id of ids.slice(0, -1)) await previous.press(id);
        expect(back.step).toBe(previous.last!.step);
        // The question as it was asked, except that the first one is not greeted again.
        const asked = previous.last!.messages.flatMap((m) => m.paragraphs).filter((p) => p !== greeting);
        expect(text(back)).toBe(asked.join('\n\n'));
      }

      const restart = await (await at()).say(words[locale].restart);
      expect(restart.step).toBe('entry');
      expect(text(restart)).toContain(translator.t(locale, 'common:startedAgain'));

      const help = await (await at()).say(words[locale].help);
      expect(help.step).toBe(step);
      expect(text(help)).toContain(translator.t(locale, `provisioning-contact:${step}.help`));

      const switched = await (await at()).say(words[locale].language);
      expect(switched.step).toBe(step);
      expect(switched.locale).toBe(other);
      expect(text(switched)).toContain(translator.t(other, 'common:languageSwitched'));

      const support = await (await at()).say(words[locale].support);
      expect(support.step).toBe('needsCase');
      expect(support.outcome).toBe('needs_case');
    });
  }
});
