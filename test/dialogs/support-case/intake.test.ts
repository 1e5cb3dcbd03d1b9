/**
 * The support-case intake driven through the real Engine, a real SQLite store and the real cases
 * runtime (local backend), entered from a fixture flow the way the troubleshooting flow's N9 does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlowInput } from '../../../dialogs/flow';
import type { CaseDraft } from '../../../dialogs/support-case/case-draft';
import { createCases, type Cases } from '../../../src/cases/index';
import { loadConfig } from '../../../src/config';
import { Engine } from '../../../src/engine/engine';
import type { Inbound, TurnResult } from '../../../src/engine/types';
import type { SqlStore } from '../../../src/storage/index';
import { postgresHarness, sqliteHarness, type StoreHarness } from '../../storage/harness';
import { fixtureEntryFlow, fixtureTranslator } from './fixture-entry';
import { Agents } from '../../../src/security/identity';
import { silentLogger } from '../../support';

const translator = fixtureTranslator();
const NOW = '2026-11-25T10:00:00.000Z';

const knownDraft = (input: FlowInput): Partial<CaseDraft> => ({
  locale: input.locale,
  channel: input.channel,
  mode: input.mode,
  requester: { ...input.user },
  orderLineStatus: 'awaiting',
  canEditInCcw: 'yes',
  ponrPassed: 'no',
  fixesTried: ['edit_steps', 'cache_cookies'],
  trail: [
    { step: 'orderLineStatus', choice: 'awaiting' },
    { step: 'canEdit', choice: 'yes' },
    { step: 'ponr', choice: 'no' },
    { step: 'browserFixes', choice: 'still_failing', text: 'кнопка Save не реагує' },
  ],
  reason: 'fixes_failed',
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  let harness: StoreHarness;
  let store: SqlStore;
  let cases: Cases;
  let engine: Engine;
  let draftFor = knownDraft;

  function build(): void {
    cases = createCases({ config: loadConfig({ CASE_BACKEND: 'local', AGENT_IDS: 'agent-7' }), store, translator, logger: silentLogger });
    engine = new Engine({
      store,
      flow: fixtureEntryFlow((i) => draftFor(i)),
      flows: [cases.flow],
      translator,
      logger: silentLogger,
      clock: () => new Date(NOW),
      actors: cases.actors,
      intents: [cases.intent],
      agents: new Agents(['agent-7']),
    });
  }

  beforeEach(async () => {
    harness = dialect === 'sqlite' ? sqliteHarness() : postgresHarness();
    store = await harness.open();
    draftFor = knownDraft;
    build();
  });
  afterEach(async () => harness.cleanup());

  const person = { id: 'u-olena', name: 'Olena Koval', email: 'olena@partner.example' };
  const inbound = (extra: Partial<Inbound>, conversationId = 'conv-1'): Inbound => ({
    channel: 'msteams',
    conversationId,
    user: person,
    locale: 'en-US',
    ...extra,
  });

  /** Every paragraph shown must be a translation, never a missing key echoed back. */
  function shown(r: TurnResult): string[] {
    const paragraphs = r.messages.flatMap((m) => m.paragraphs);
    for (const p of paragraphs) expect(p).not.toMatch(/^[\w-]+:[\w.]+$|^[a-zA-Z]+\.[\w.]+$/);
    return paragraphs;
  }
  const say = (text: string, extra: Partial<Inbound> = {}) => engine.handle(inbound({ text, ...extra }));
  const press = (id: string, step?: string, extra: Partial<Inbound> = {}) => engine.handle(inbound({ choice: { id, step }, ...extra }));

  async function toIntake(extra: Partial<Inbound> = {}): Promise<TurnResult> {
    await engine.handle(inbound({ kind: 'greeting', ...extra }));
    return press('open_case', 'ask', extra);
  }

  describe(`support-case intake (English, ${dialect})`, () => {
    it('collects, re-asks bad values with a specific hint, confirms and stores the case field by field', async () => {
      let r = await toIntake();
      expect(r.step).toBe('orderNumber');
      expect(shown(r)[0]).toMatch(/open a support case/);

      r = await say('ABC-12');
      expect(r.step).toBe('orderNumber');
      expect(shown(r)[0]).toMatch(/must consist of digits only/);
      r = await say('123');
      expect(shown(r)[0]).toMatch(/6 to 12 digits/);
      r = await say('Sub123456');
      expect(shown(r)[0]).toMatch(/looks like a subscription ID/);
      r = await say('SO# 104857391');
      expect(r.step).toBe('subscriptionId');

      r = await say('123456');
      expect(r.step).toBe('subscriptionId');
      expect(shown(r)[0]).toMatch(/starts with “Sub”/);
      r = await say('Sub12x');
      expect(shown(r)[0]).toMatch(/only digits \(4 to 12/);
      r = await say('S-12345');
      expect(shown(r)[0]).toMatch(/doesn't look like a subscription ID/);
      r = await say('sub 123456');
      expect(r.step).toBe('currentEmail');

      r = await say('not-an-email');
      expect(r.step).toBe('currentEmail');
      expect(shown(r)[0]).toBe("That doesn't look like an email address. Please type it as name@example.com.");
      r = await say('old.contact@customer.example');
      expect(r.step).toBe('newEmail');
      expect(shown(r).join(' ')).toContain('Current: old.contact@customer.example');
      r = await say('OLD.contact@customer.example');
      expect(r.step).toBe('newEmail');
      expect(shown(r)[0]).toMatch(/must differ from the current one/);
      r = await say('new.contact@customer.example');
      expect(r.step).toBe('attachments');
      expect(r.messages[0]!.expects).toBe('attachment');

      r = await engine.handle(inbound({ attachments: [{ name: 'ccw-error.png', contentType: 'image/png', size: 48213, url: 'https://files.example/ccw-error.png' }] }));
      expect(r.step).toBe('attachments');
      expect(shown(r)[0]).toContain('ccw-error.png');
      r = await press('attachments_done', 'attachments');
      expect(r.step).toBe('summary');
      const facts = Object.fromEntries(r.messages[0]!.facts.map((f) => [f.label, f.value]));
      expect(facts).toMatchObject({
        'Order number': '104857391',
        'Subscription ID': 'Sub123456',
        'Current Provisioning Contact Email': 'old.contact@customer.example',
        'New Provisioning Contact Email': 'new.contact@customer.example',
        Screenshots: 'ccw-error.png',
        'Order line status': 'Awaiting Provisioning Details',
      });

      // Corrected field by field: the edit returns to the summary.
      r = await press('edit_newEmail', 'summary');
      expect(r.step).toBe('newEmail');
      expect(shown(r).join(' ')).toContain('Currently: new.contact@customer.example');
      r = await say('provisioning@customer.example');
      expect(r.step).toBe('summary');
      expect(r.messages[0]!.facts.find((f) => f.label === 'New Provisioning Contact Email')?.value).toBe('provisioning@customer.example');

      r = await press('confirm', 'summary');
      expect(r.step).toBe('opened');
      expect(r.outcome).toBe('case_opened');
      const text = shown(r).join('\n');
      expect(text).toContain('Your case reference is PCE-000001');
      expect(text).toContain('https://www.cisco.com/go/cs');
      // The article's manual path: sign in, the entitlement search, then Open Case.
      expect(text).toContain('go through the entitlement search, click the “Open Case” icon and choose the Request Type “Change Provisioning Contact Email”');
      expect(text).toContain('Order number (CCW sales order or web order): 104857391');
      expect(r.messages[0]!.links).toEqual([{ label: 'Support Case Manager', url: 'https://www.cisco.com/go/cs' }]);

      const record = await cases.repository.findByReference('PCE-000001');
      expect(record).toBeDefined();
      expect(record!.requestType).toBe('Change Provisioning Contact Email');
      expect(record!.conversationKey).toBe('msteams:conv-1');
      expect(record!.locale).toBe('en');
      expect(record!.channel).toBe('msteams');
      expect(record!.openedBy).toEqual({ kind: 'person', userKey: 'msteams:u-olena', name: 'Olena Koval', email: 'olena@partner.example' });
      expect(record!.orderNumber).toBe('104857391');
      expect(record!.subscriptionId).toBe('Sub123456');
      expect(record!.currentContactEmail).toBe('old.contact@customer.example');
      expect(record!.newContactEmail).toBe('provisioning@customer.example');
      expect(record!.orderLineStatus).toBe('awaiting');
      expect(record!.canEditInCcw).toBe('yes');
      expect(record!.ponrPassed).toBe('no');
      expect(record!.fixesTried).toEqual(['edit_steps', 'cache_cookies']);
      expect(record!.reason).toBe('fixes_failed');
      expect(record!.attachments).toEqual([{ name: 'ccw-error.png', contentType: 'image/png', size: 48213, url: 'https://files.example/ccw-error.png' }]);
      expect(record!.trail).toEqual([
        { step: 'orderLineStatus', choice: 'awaiting' },
        { step: 'canEdit', choice: 'yes' },
        { step: 'ponr', choice: 'no' },
        { step: 'browserFixes', choice: 'still_failing', text: 'кнопка Save не реагує' },
        { step: 'case.orderNumber', text: '104857391' },
        { step: 'case.subscriptionId', text: 'Sub123456' },
        { step: 'case.currentEmail', text: 'old.contact@customer.example' },
        { step: 'case.newEmail', text: 'new.contact@customer.example' },
        { step: 'case.attachments', text: 'ccw-error.png' },
        { step: 'case.attachments', choice: 'done' },
        { step: 'case.newEmail', text: 'provisioning@customer.example' },
        { step: 'case.summary', choice: 'confirm' },
      ]);
      expect(record!.transcript.length).toBeGreaterThan(10);
      expect(record!.transcript[0]).toMatchObject({ from: 'bot', text: 'Did the fixes work?' });
      expect(record!.transcript.some((e) => e.from === 'user' && e.text === 'SO# 104857391')).toBe(true);
      expect(record!.createdAt).toBe(NOW);
      expect(record!.delivery).toEqual({ backend: 'local', status: 'manual', attempts: 0 });
    });

    it('goes back from the first question to where the person was in the troubleshooting flow', async () => {
      await toIntake();
      const r = await say('back');
      expect(r.step).toBe('ask');
      expect(shown(r)).toContain('Did the fixes work?');
    });

    it('goes back question by question inside the intake', async () => {
      await toIntake();
      await say('104857391');
      let r = await say('back');
      expect(r.step).toBe('orderNumber');
      r = await say('104857392');
      expect(r.step).toBe('subscriptionId');
    });

    it('opens one case for a double press, a re-sent activity and a second confirmation of the same details', async () => {
      await toIntake();
      for (const t of ['104857391', 'Sub123456', 'a@customer.example', 'b@customer.example']) await say(t);
      await press('attachments_done', 'attachments');
      const [first, second] = await Promise.all([
        press('confirm', 'summary', { activityId: 'act-1' }),
        press('confirm', 'summary', { activityId: 'act-2' }),
      ]);
      expect(first.step).toBe('opened');
      expect(second.stale).toBe(true);
      const resent = await press('confirm', 'summary', { activityId: 'act-1' });
      expect(resent.duplicate).toBe(true);
      expect(await cases.repository.countByStatus('manual')).toBe(1);

      // Start over in the same conversation and confirm the very same details again: the same case.
      await say('start over');
      await press('open_case', 'ask');
      for (const t of ['104857391', 'Sub123456', 'a@customer.example', 'b@customer.example']) await say(t);
      await press('attachments_done', 'attachments');
      const again = await press('confirm', 'summary');
      expect(shown(again).join(' ')).toContain('PCE-000001');
      expect(await cases.repository.countByStatus('manual')).toBe(1);
    });

    it('answers "status of PCE-…" to the person who opened it and to an agent, and to nobody else', async () => {
      await toIntake();
      for (const t of ['104857391', 'Sub123456', 'a@customer.example', 'b@customer.example']) await say(t);
      await press('attachments_done', 'attachments');
      await press('confirm', 'summary');

      // In the conversation still at that case, the intake answers in short, without the summary again.
      const own = await say('what is the status of PCE-000001?');
      expect(shown(own)).toEqual([translator.t('en', 'support-case:followUp.manual', { reference: 'PCE-000001' })]);
      expect(shown(own)[0]).toMatch(/PCE-000001 is saved here/);
      const stranger = await engine.handle(inbound({ text: 'status of PCE-000001', user: { id: 'u-other' } }, 'conv-2'));
      expect(shown(stranger)[0]).toBe("I can't find a case PCE-000001 opened by you. Please check the reference.");
      const agent = await engine.handle(inbound({ text: 'status PCE-1', user: { id: 'agent-7', verified: [{ scheme: 'aad', value: 'agent-7' }] } }, 'conv-3'));
      expect(shown(agent)[0]).toMatch(/^Case PCE-000001 is saved here/);
    });
  });

  describe(`support-case intake (Ukrainian, ${dialect})`, () => {
    it('starts after what is known, speaks Ukrainian, and stores the case with an English summary', async () => {
      draftFor = (input) => ({ ...knownDraft(input), orderNumber: '98765432', orderLineStatus: 'closed' });
      build();
      const uk = { locale: 'uk-UA', user: { id: 'u-taras', name: 'Тарас Шевчук', email: 'taras@partner.example' } };
      let r = await toIntake(uk);
      expect(r.locale).toBe('uk');
      expect(r.step).toBe('subscriptionId');
      expect(shown(r).join(' ')).toContain('Який ідентифікатор підписки?');

      r = await say('123456', uk);
      expect(shown(r)[0]).toMatch(/починається з «Sub»/);
      r = await say('Sub654321', uk);
      r = await say('стара адреса', uk);
      expect(shown(r)[0]).toMatch(/не схоже на адресу електронної пошти/);
      r = await say('stara@klient.example', uk);
      r = await say('stara@klient.example', uk);
      expect(shown(r)[0]).toMatch(/має відрізнятися від поточної/);
      r = await say('nova@klient.example', uk);
      expect(r.step).toBe('attachments');
      r = await say('Пропустити', uk);
      expect(r.step).toBe('summary');
      const facts = Object.fromEntries(r.messages[0]!.facts.map((f) => [f.label, f.value]));
      expect(facts).toMatchObject({ 'Номер замовлення': '98765432', 'Статус рядка замовлення': 'Closed', 'Знімки екрана': 'немає' });

      r = await say('Підтвердити й відкрити звернення', uk);
      expect(r.step).toBe('opened');
      const text = shown(r).join('\n');
      expect(text).toContain('Номер вашого звернення — PCE-000001');
      // The summary to paste is for Cisco support: English, with the person's own words as written.
      expect(text).toContain('Conversation language: Ukrainian');
      expect(text).toContain('Subscription ID: Sub654321');
      expect(text).toContain('"кнопка Save не реагує"');

      const record = (await cases.repository.findByReference('PCE-000001'))!;
      expect(record.locale).toBe('uk');
      expect(record.orderNumber).toBe('98765432');
      expect(record.subscriptionId).toBe('Sub654321');
      expect(record.currentContactEmail).toBe('stara@klient.example');
      expect(record.newContactEmail).toBe('nova@klient.example');
      expect(record.orderLineStatus).toBe('closed');
      expect(record.openedBy).toEqual({ kind: 'person', userKey: 'msteams:u-taras', name: 'Тарас Шевчук', email: 'taras@partner.example' });
      expect(record.trail.slice(4)).toEqual([
        { step: 'case.subscriptionId', text: 'Sub654321' },
        { step: 'case.currentEmail', text: 'stara@klient.example' },
        { step: 'case.newEmail', text: 'nova@klient.example' },
        { step: 'case.attachments', choice: 'skip' },
        { step: 'case.summary', choice: 'confirm' },
      ]);
      expect(record.attachments).toEqual([]);

      const status = await say('який статус PCE-000001', uk);
      expect(shown(status)).toEqual([translator.t('uk', 'support-case:followUp.manual', { reference: 'PCE-000001' })]);
      expect(shown(status)[0]).toMatch(/звернення PCE-000001 збережено тут/);
    });
  });
}
