/**
 * The case intake as a person has it, in English and in Ukrainian: the real guide hands over when
 * nothing helped, the real intake, the real cases runtime (local backend, so the person gets the
 * summary to paste) and a real SQLite store. Each transcript asserts what the person reads (through
 * the translator) and what the stored case holds. Issue 16, "What failed": "Case intake" and "The
 * hand-off to a case is abrupt".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Locale } from '../../../dialogs/flow';
import { provisioningContactFlow } from '../../../dialogs/provisioning-contact/machine';
import { createCases, type Cases } from '../../../src/cases/index';
import { loadConfig } from '../../../src/config';
import { Engine } from '../../../src/engine/engine';
import type { TurnResult } from '../../../src/engine/types';
import { createTranslator } from '../../../src/i18n';
import type { SqlStore } from '../../../src/storage/index';
import { sqliteHarness, type StoreHarness } from '../../storage/harness';
import { silentLogger } from '../../support';

const translator = createTranslator();
let harness: StoreHarness;
let store: SqlStore;
let cases: Cases;
let engine: Engine;

beforeEach(async () => {
  harness = sqliteHarness();
  store = await harness.open();
  cases = createCases({ config: loadConfig({ CASE_BACKEND: 'local' }), store, translator, logger: silentLogger });
  engine = new Engine({
    store,
    flow: provisioningContactFlow,
    flows: [cases.flow],
    translator,
    logger: silentLogger,
    clock: () => new Date('2026-11-25T10:00:00.000Z'),
    actors: cases.actors,
    intents: [cases.intent],
  });
});
afterEach(async () => harness.cleanup());

function person(locale: Locale) {
  const base = { channel: 'msteams', conversationId: `conv-${locale}`, user: { id: `u-${locale}`, name: 'Olena' }, locale };
  return {
    greet: () => engine.handle({ ...base, kind: 'greeting' }),
    say: (text: string) => engine.handle({ ...base, text }),
  };
}

const shown = (r: TurnResult): string[] => r.messages.flatMap((m) => m.paragraphs);
const facts = (r: TurnResult) => Object.fromEntries(r.messages[0]!.facts.map((f) => [f.label, f.value]));
const choices = (r: TurnResult) => r.messages[0]!.choices.map((c) => c.label);

/** The guide up to "I've tried them all, nothing helps" (N8 -> N9), in the person's own words. */
const NOTHING_HELPED: Record<Locale, string[]> = {
  en: ['change the contact', 'awaiting provisioning details', 'yes', 'no', "it didn't work", 'nothing helps'],
  uk: ['змінити адресу', 'очікує', 'так', 'ні', 'не вийшло', 'нічого не допомагає'],
};

async function handedOver(locale: Locale): Promise<{ p: ReturnType<typeof person>; r: TurnResult }> {
  const p = person(locale);
  await p.greet();
  let r: TurnResult | undefined;
  for (const says of NOTHING_HELPED[locale]) r = await p.say(says);
  return { p, r: r! };
}

describe('the hand-off from "nothing helped" to the case intake', () => {
  it.each(['en', 'uk'] as const)('%s: says in one paragraph why a case is needed and what to have at hand, then asks the first question', async (locale) => {
    const t = (key: string) => translator.t(locale, key);
    const { r } = await handedOver(locale);
    expect(r.step).toBe('orderNumber');
    expect(shown(r)).toEqual([t('support-case:handoff.fixes_failed'), t('support-case:orderNumber.prompt')]);
    expect(shown(r)).not.toContain(t('support-case:intro'));
    const paragraph = shown(r)[0]!;
    const mentions = {
      en: [/didn't help/, /support engineer/, /order number/, /subscription ID/, /current and the new Provisioning Contact Email/, /screenshot/, /Don't know one/],
      uk: [/не допомогли/, /інженер підтримки/, /номер замовлення/, /ідентифікатор підписки/, /поточну й нову адреси/, /знімок екрана/, /Чогось не знаєте/],
    }[locale];
    for (const m of mentions) expect(paragraph).toMatch(m);
    expect(paragraph).not.toContain('\n');
    // "I don't know" is on offer from the first question.
    expect(choices(r)).toEqual([t('support-case:dontKnow')]);
  });
});

describe('an intake that takes real answers', () => {
  it('en: "№ 104857391", "no idea" for the subscription ID, an internationalised address, then short answers after the case is opened', async () => {
    const t = (key: string, params?: Record<string, unknown>) => translator.t('en', key, params);
    const { p } = await handedOver('en');

    let r = await p.say('№ 104857391');
    expect(r.step).toBe('subscriptionId');
    expect(shown(r)).toEqual([t('support-case:subscriptionId.prompt')]);

    r = await p.say('no idea');
    expect(r.step).toBe('currentEmail');
    expect(shown(r)).toEqual([t('support-case:subscriptionId.notedUnknown'), t('support-case:currentEmail.prompt')]);
    expect(shown(r)[0]).toMatch(/Cloud\/SaaS Subscription page/);

    r = await p.say('user@bücher.example');
    expect(r.step).toBe('newEmail');
    expect(shown(r).join(' ')).toContain('user@bücher.example');
    r = await p.say('nova.kontaktna@partner.example.');
    expect(r.step).toBe('attachments');
    r = await p.say('skip');
    expect(r.step).toBe('summary');
    expect(facts(r)).toMatchObject({
      'Order number': '104857391',
      [t('support-case:field.subscriptionId')]: t('support-case:value.notKnown'),
      'New Provisioning Contact Email': 'nova.kontaktna@partner.example',
    });

    r = await p.say('confirm and open the case');
    expect(r.step).toBe('opened');
    const opened = shown(r).join('\n');
    expect(opened).toContain('PCE-000001');
    // The summary to paste for Cisco support says the subscription ID is not known.
    expect(opened).toContain('Order number (CCW sales order or web order): 104857391');
    expect(opened).toContain(`Subscription ID: ${t('cases:summary.notKnown')}`);
    expect(opened.split('\n').length).toBeGreaterThan(20);

    const record = (await cases.repository.findByReference('PCE-000001'))!;
    expect(record.orderNumber).toBe('104857391');
    expect(record.subscriptionId).toBeUndefined();
    expect(record.unknownFields).toEqual(['subscriptionId']);
    expect(record.currentContactEmail).toBe('user@bücher.example');
    expect(record.newContactEmail).toBe('nova.kontaktna@partner.example');
    expect(record.reason).toBe('fixes_failed');
    expect(record.trail).toContainEqual({ step: 'case.orderNumber', text: '104857391' });
    expect(record.trail).toContainEqual({ step: 'case.subscriptionId', choice: 'dont_know' });

    // Later messages: the reference, where it stands and what next, in one paragraph, not the summary.
    const short = [t('support-case:followUp.manual', { reference: 'PCE-000001' })];
    for (const says of ['any news on my case?', 'what is the status of PCE-000001?', 'support']) {
      r = await p.say(says);
      expect(shown(r), says).toEqual(short);
      expect(r.step).toBe('followUp');
      expect(r.messages[0]!.links).toEqual([{ label: 'Support Case Manager', url: 'https://www.cisco.com/go/cs' }]);
    }
    expect(shown(r)[0]).toMatch(/PCE-000001 is saved here/);
    // The summary is one press away when it is needed again.
    r = await p.say('show the summary again');
    expect(r.step).toBe('opened');
    expect(shown(r).join('\n')).toContain(`Subscription ID: ${t('cases:summary.notKnown')}`);
    expect(await cases.repository.countByStatus('manual')).toBe(1);
  });

  it('uk: «не знаю» and «хз» are taken as unknown, the number is added from the summary, an address in Cyrillic is accepted', async () => {
    const t = (key: string, params?: Record<string, unknown>) => translator.t('uk', key, params);
    const { p } = await handedOver('uk');

    let r = await p.say('не знаю');
    expect(r.step).toBe('subscriptionId');
    expect(shown(r)).toEqual([t('support-case:orderNumber.notedUnknown'), t('support-case:subscriptionId.prompt')]);
    expect(shown(r)[0]).toMatch(/CCW/);

    r = await p.say('хз');
    expect(r.step).toBe('currentEmail');
    expect(shown(r)).toEqual([t('support-case:subscriptionId.notedUnknown'), t('support-case:currentEmail.prompt')]);

    r = await p.say('олена@партнер.укр');
    expect(r.step).toBe('newEmail');
    expect(shown(r).join(' ')).toContain('олена@партнер.укр');
    r = await p.say('олена@партнер');
    expect(shown(r)[0]).toBe(t('support-case:email.hintInvalid'));
    r = await p.say('Тарас.Новий@клієнт.укр');
    expect(r.step).toBe('attachments');
    r = await p.say('пропустити');
    expect(r.step).toBe('summary');
    const notKnown = t('support-case:value.notKnown');
    expect(facts(r)).toMatchObject({ 'Номер замовлення': notKnown, 'Ідентифікатор підписки': notKnown, [t('support-case:field.currentEmail')]: 'олена@партнер.укр' });

    // Found it after all: added from the summary, written the way people write it.
    r = await p.say('виправити номер замовлення');
    expect(r.step).toBe('orderNumber');
    expect(choices(r)).toEqual([t('support-case:keep'), t('support-case:dontKnow')]);
    r = await p.say('104 857 391');
    expect(r.step).toBe('summary');
    expect(facts(r)).toMatchObject({ 'Номер замовлення': '104857391', 'Ідентифікатор підписки': notKnown });

    r = await p.say('підтвердити й відкрити звернення');
    expect(r.step).toBe('opened');
    const opened = shown(r).join('\n');
    expect(opened).toContain('PCE-000001');
    expect(opened).toContain('Order number (CCW sales order or web order): 104857391');
    expect(opened).toContain(`Subscription ID: ${translator.t('en', 'cases:summary.notKnown')}`);
    expect(opened).toContain('Current Provisioning Contact Email: олена@партнер.укр');

    const record = (await cases.repository.findByReference('PCE-000001'))!;
    expect(record.locale).toBe('uk');
    expect(record.orderNumber).toBe('104857391');
    expect(record.subscriptionId).toBeUndefined();
    expect(record.unknownFields).toEqual(['subscriptionId']);
    expect(record.currentContactEmail).toBe('олена@партнер.укр');
    expect(record.newContactEmail).toBe('Тарас.Новий@клієнт.укр');
    expect(record.trail.filter((e) => e.step.startsWith('case.'))).toEqual([
      { step: 'case.orderNumber', choice: 'dont_know' },
      { step: 'case.subscriptionId', choice: 'dont_know' },
      { step: 'case.currentEmail', text: 'олена@партнер.укр' },
      { step: 'case.newEmail', text: 'Тарас.Новий@клієнт.укр' },
      { step: 'case.attachments', choice: 'skip' },
      { step: 'case.orderNumber', text: '104857391' },
      { step: 'case.summary', choice: 'confirm' },
    ]);

    const short = [t('support-case:followUp.manual', { reference: 'PCE-000001' })];
    for (const says of ['що там із моїм зверненням?', 'який статус PCE-000001', 'назад']) {
      r = await p.say(says);
      expect(shown(r), says).toEqual(short);
      expect(r.step).toBe('followUp');
    }
    expect(shown(r)[0]).toMatch(/звернення PCE-000001 збережено/);
  });
});
