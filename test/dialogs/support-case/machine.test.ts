/** The intake machine on its own: field rules, every state's view translated in both languages, edits and failures. */
import { createActor, fromPromise, waitFor } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { FlowEvent, FlowInput, StepView } from '../../../dialogs/flow';
import {
  readEmail,
  readOrderNumber,
  readSubscriptionId,
  supportCaseFlow,
  supportCaseMachine,
  type CaseStatusOutput,
  type OpenCaseOutput,
  type SupportCaseInput,
} from '../../../dialogs/support-case/index';
import { createTranslator } from '../../../src/i18n';

const translator = createTranslator();
const flowInput: FlowInput = { locale: 'en', channel: 'webex', user: { id: 'u1', name: 'Ann', email: 'ann@partner.example' }, mode: 'self', startedAt: '2026-11-25T10:00:00Z' };
const input: SupportCaseInput = { flowInput, draft: { fixesTried: ['incognito'], orderLineStatus: 'unknown' } };

interface Fakes {
  open?: () => Promise<OpenCaseOutput>;
  status?: () => Promise<CaseStatusOutput>;
}

async function run(events: FlowEvent[], fakes: Fakes = {}) {
  const machine = supportCaseMachine.provide({
    actors: {
      openCase: fromPromise(fakes.open ?? (async () => ({ reference: 'PCE-000009', delivery: 'queued' as const }))),
      caseStatus: fromPromise(fakes.status ?? (async () => ({ reference: 'PCE-000009', status: 'pending' as const }))),
    },
  });
  const actor = createActor(machine, { input }).start();
  for (const e of events) {
    actor.send(e);
    await waitFor(actor, (s) => !s.hasTag('busy'));
  }
  return actor.getSnapshot();
}

const view = (s: Awaited<ReturnType<typeof run>>) => supportCaseFlow.view(s);
const text = (t: string): FlowEvent => ({ type: 'TEXT', text: t });
const choose = (choice: string): FlowEvent => ({ type: 'CHOOSE', choice });
const toSummary: FlowEvent[] = [text('104857391'), text('Sub123456'), text('a@customer.example'), text('b@customer.example'), choose('attachments_done')];

/** Every key a view names exists in English and in Ukrainian. */
function expectTranslated(v: StepView): void {
  for (const l of v.lines) for (const lng of ['en', 'uk'] as const) expect(translator.has(lng, l.key, l.params), `${lng} ${l.key}`).toBe(true);
  const keys = [
    v.helpKey,
    ...v.choices.map((c) => c.labelKey),
    ...v.links.map((l) => l.labelKey),
    ...v.facts.flatMap((f) => [f.labelKey, ...(f.valueKey ? [f.valueKey] : [])]),
  ];
  for (const key of keys) for (const lng of ['en', 'uk'] as const) expect(translator.has(lng, key), `${lng} ${key}`).toBe(true);
}

describe('field rules', () => {
  it.each([
    ['104857391', '104857391'],
    ['SO 104857391', '104857391'],
    ['Web order #98765432', '98765432'],
    ['sales order number: 1048 5739 1', '104857391'],
    ['№ 104857391', '104857391'],
    ['№104857391', '104857391'],
    ['104 857 391', '104857391'],
    ['SO-104857391', '104857391'],
    ['104–857–391', '104857391'],
    ['104-857-391', '104857391'],
    ['#104857391', '104857391'],
    ['номер замовлення: 104 857 391', '104857391'],
  ])('reads the order number %s as %s', (given, value) => expect(readOrderNumber(given)).toEqual({ ok: true, value }));

  it('names what is wrong with an order number written with № too', () => {
    expect(readOrderNumber('№ 123')).toEqual({ ok: false, hint: 'support-case:orderNumber.hintLength' });
    expect(readOrderNumber('№ abc')).toEqual({ ok: false, hint: 'support-case:orderNumber.hintDigits' });
    expect(readOrderNumber('Sub104857391')).toEqual({ ok: false, hint: 'support-case:orderNumber.hintLooksLikeSubscription' });
  });

  it.each([
    ['Sub123456', 'Sub123456'],
    ['sub-123456', 'Sub123456'],
    ['SUB 00123456', 'Sub00123456'],
  ])('reads the subscription id %s as %s', (given, value) => expect(readSubscriptionId(given)).toEqual({ ok: true, value }));

  it('reads emails written with mailto: or brackets and refuses the same address in other letter case', () => {
    expect(readEmail('mailto:New@Customer.example')).toEqual({ ok: true, value: 'New@Customer.example' });
    expect(readEmail('<new@customer.example>')).toEqual({ ok: true, value: 'new@customer.example' });
    expect(readEmail('NEW@customer.example', 'new@customer.example')).toEqual({ ok: false, hint: 'support-case:email.hintSame' });
    expect(readEmail('new@customer')).toEqual({ ok: false, hint: 'support-case:email.hintInvalid' });
  });

  it.each([['олена@партнер.укр'], ['user@bücher.example'], ['Олена.Коваль+ccw@партнер.укр'], ['a@xn--80ak6aa92e.com']])('accepts the internationalised address %s', (email) => {
    expect(readEmail(email)).toEqual({ ok: true, value: email });
  });

  it('drops the full stop that ends a sentence', () => expect(readEmail('олена@партнер.укр.')).toEqual({ ok: true, value: 'олена@партнер.укр' }));

  it.each([['олена @партнер.укр'], ['олена@@партнер.укр'], ['олена@партнер'], ['@партнер.укр'], ['олена@партнер..укр'], ['олена@-партнер.укр'], ['a@b.example, c@d.example']])(
    'refuses %s',
    (email) => expect(readEmail(email)).toEqual({ ok: false, hint: 'support-case:email.hintInvalid' }),
  );
});

describe('support-case machine', () => {
  it('names only translated keys in every state it can show', async () => {
    const walks: FlowEvent[][] = [
      [],
      [text('x')],
      [text('12')],
      [text('Sub123456')],
      [text('a@b.example')],
      [{ type: 'UNRECOGNISED', text: '' }],
      [{ type: 'SUPPORT' }],
      [text('104857391'), text('123')],
      [text('104857391'), text('Subx')],
      [text('104857391'), text('zzz')],
      [text('104857391'), text('Sub123456'), text('nope')],
      [text('104857391'), text('Sub123456'), text('a@customer.example'), text('a@customer.example')],
      [text('104857391'), text('Sub123456'), text('a@customer.example'), text('b@customer.example')],
      [text('104857391'), text('Sub123456'), text('a@customer.example'), text('b@customer.example'), text('hello')],
      [text('104857391'), text('Sub123456'), text('a@customer.example'), text('b@customer.example'), { type: 'ATTACH', files: [{ name: 'a.png', contentType: 'image/png', url: 'https://f/a' }] }],
      toSummary,
      [...toSummary, text('hm')],
      [...toSummary, choose('edit_subscriptionId')],
      [...toSummary, choose('edit_attachments')],
      [...toSummary, choose('confirm')],
      [...toSummary, choose('confirm'), choose('refresh_status')],
      [{ type: 'BACK' }],
      [choose('dont_know')],
      [choose('dont_know'), choose('dont_know')],
      [text('104857391'), choose('dont_know'), text('a@customer.example'), text('b@customer.example'), choose('attachments_done')],
      [...toSummary, choose('edit_orderNumber')],
      [...toSummary, choose('edit_orderNumber'), choose('dont_know')],
    ];
    for (const events of walks) expectTranslated(view(await run(events)));
    const variants: Fakes[] = [
      { open: async () => Promise.reject(new Error('db down')) },
      { open: async () => ({ reference: 'PCE-000009', delivery: 'manual', summary: 'S' }) },
      { status: async () => ({ reference: 'PCE-000009', status: 'delivered', externalId: 'INC0010001' }) },
      { status: async () => ({ reference: 'PCE-000009', status: 'failed' }) },
      { status: async () => Promise.reject(new Error('not visible')) },
    ];
    for (const fakes of variants) expectTranslated(view(await run([...toSummary, choose('confirm'), choose('refresh_status')], fakes)));
    const manual: Fakes = {
      open: async () => ({ reference: 'PCE-000009', delivery: 'manual', summary: 'S' }),
      status: async () => ({ reference: 'PCE-000009', status: 'manual' }),
    };
    expectTranslated(view(await run([...toSummary, choose('confirm'), text('hello')], manual)));
    expectTranslated(view(await run([...toSummary, choose('confirm'), text('hello'), choose('show_summary')], manual)));
    expectTranslated(view(await run([...toSummary, choose('confirm'), text('hello')], { status: async () => ({ reference: 'PCE-000009', status: 'pending', retrying: true }) })));
  });

  it('takes "I don\'t know" for the order number and the subscription ID, says where to find them, and opens the case without them', async () => {
    let opened: unknown;
    const open = async (): Promise<OpenCaseOutput> => ({ reference: 'PCE-000011', delivery: 'queued' });
    let s = await run([choose('dont_know')], { open });
    expect(s.value).toBe('subscriptionId');
    expect(view(s).lines.map((l) => l.key)).toEqual(['support-case:orderNumber.notedUnknown', 'support-case:subscriptionId.prompt']);
    expect(view(s).choices).toEqual([{ id: 'dont_know', labelKey: 'support-case:dontKnow' }]);
    // A wrong value at the next question replaces the note with its own hint.
    s = await run([choose('dont_know'), text('123456')]);
    expect(view(s).lines[0]).toMatchObject({ key: 'support-case:subscriptionId.hintPrefix' });

    s = await run([choose('dont_know'), choose('dont_know'), text('a@customer.example'), text('b@customer.example'), choose('attachments_done')]);
    expect(s.value).toBe('summary');
    expect(s.context.draft.unknownFields).toEqual(['orderNumber', 'subscriptionId']);
    expect(view(s).facts.slice(0, 2)).toEqual([
      { labelKey: 'support-case:field.orderNumber', valueKey: 'support-case:value.notKnown' },
      { labelKey: 'support-case:field.subscriptionId', valueKey: 'support-case:value.notKnown' },
    ]);
    const machine = supportCaseMachine.provide({
      actors: {
        openCase: fromPromise(async ({ input }) => {
          opened = input;
          return open();
        }),
      },
    });
    const actor = createActor(machine, { input }).start();
    for (const e of [choose('dont_know'), choose('dont_know'), text('a@customer.example'), text('b@customer.example'), choose('attachments_done'), choose('confirm')]) actor.send(e);
    await waitFor(actor, (x) => !x.hasTag('busy'));
    expect(actor.getSnapshot().value).toBe('opened');
    expect(opened).toMatchObject({ draft: { unknownFields: ['orderNumber', 'subscriptionId'], currentContactEmail: 'a@customer.example' } });
    expect((opened as { draft: Record<string, unknown> }).draft.orderNumber).toBeUndefined();
  });

  it('replaces a known value by "not known", and "not known" by a value, from the summary', async () => {
    let s = await run([...toSummary, choose('edit_subscriptionId'), choose('dont_know')]);
    expect(s.value).toBe('summary');
    expect(s.context.draft.subscriptionId).toBeUndefined();
    expect(s.context.draft.unknownFields).toEqual(['subscriptionId']);
    expect(view(s).lines[0]).toMatchObject({ key: 'support-case:subscriptionId.notedUnknown' });
    s = await run([...toSummary, choose('edit_subscriptionId'), choose('dont_know'), choose('edit_subscriptionId'), text('Sub-7654321')]);
    expect(s.context.draft.subscriptionId).toBe('Sub7654321');
    expect(s.context.draft.unknownFields).toEqual([]);
  });

  it('offers "I don\'t know" only where a value may be unknown', async () => {
    expect(view(await run([text('104857391'), text('Sub123456')])).choices).toEqual([]);
  });

  it('opens the intake with why a case is needed when the guide handed over, and with the plain intro for an agent', async () => {
    const started = (draft: SupportCaseInput['draft'], mode: FlowInput['mode'] = 'self') => {
      const actor = createActor(supportCaseMachine, { input: { flowInput: { ...flowInput, mode }, draft } }).start();
      return view(actor.getSnapshot()).lines[0]?.key;
    };
    expect(started({ reason: 'fixes_failed' })).toBe('support-case:handoff.fixes_failed');
    expect(started({ reason: 'verification_failed' })).toBe('support-case:handoff.verification_failed');
    expect(started({})).toBe('support-case:handoff.requested');
    expect(started({ reason: 'fixes_failed' }, 'agent')).toBe('support-case:intro');
    for (const reason of ['fixes_failed', 'requested', 'not_understood', 'verification_failed', 'status_unknown']) {
      for (const lng of ['en', 'uk'] as const) expect(translator.has(lng, `support-case:handoff.${reason}`), `${lng} ${reason}`).toBe(true);
    }
  });

  it('answers later messages in short: reference, status and what next; the summary to paste again on request', async () => {
    const manual: Fakes = {
      open: async () => ({ reference: 'PCE-000009', delivery: 'manual', summary: 'SUMMARY' }),
      status: async () => ({ reference: 'PCE-000009', status: 'manual' }),
    };
    const first = view(await run([...toSummary, choose('confirm')], manual));
    expect(first.lines).toContainEqual({ key: 'support-case:opened.manualSummary', params: { summary: 'SUMMARY' } });
    const later = view(await run([...toSummary, choose('confirm'), text('any news?')], manual));
    expect(later.step).toBe('followUp');
    expect(later.outcome).toBe('case_opened');
    expect(later.lines).toEqual([{ key: 'support-case:followUp.manual', params: { reference: 'PCE-000009' } }]);
    expect(later.choices).toEqual([{ id: 'show_summary', labelKey: 'support-case:followUp.showSummary' }]);
    const again = view(await run([...toSummary, choose('confirm'), text('any news?'), choose('show_summary')], manual));
    expect(again.lines).toContainEqual({ key: 'support-case:opened.manualSummary', params: { summary: 'SUMMARY' } });

    const retrying = view(await run([...toSummary, choose('confirm'), { type: 'SUPPORT' }], { status: async () => ({ reference: 'PCE-000009', status: 'pending', retrying: true }) }));
    expect(retrying.lines).toEqual([{ key: 'support-case:followUp.retrying', params: { reference: 'PCE-000009' } }]);
    const away = view(await run([...toSummary, choose('confirm'), text('?')], { status: async () => Promise.reject(new Error('db down')) }));
    expect(away.lines).toEqual([{ key: 'support-case:followUp.unavailable', params: { reference: 'PCE-000009' } }]);
  });

  it('summarises what it was given as well as what it asked, with translated values', async () => {
    const v = view(await run(toSummary));
    expect(v.facts).toContainEqual({ labelKey: 'support-case:field.fixesTried', valueKey: 'support-case:value.fix.incognito' });
    expect(v.facts).toContainEqual({ labelKey: 'support-case:field.orderLineStatus', valueKey: 'support-case:value.lineStatus.unknown' });
    expect(v.facts).toContainEqual({ labelKey: 'support-case:field.requester', value: 'Ann, ann@partner.example' });
  });

  it('keeps a value when the person changes their mind about editing it', async () => {
    const s = await run([...toSummary, choose('edit_orderNumber'), choose('keep')]);
    expect(s.value).toBe('summary');
    expect(s.context.draft.orderNumber).toBe('104857391');
  });

  it('replaces screenshots from the summary and returns there', async () => {
    const file = { name: 'b.png', contentType: 'image/png', size: 10, url: 'https://f/b' };
    const s = await run([...toSummary, choose('edit_attachments'), { type: 'ATTACH', files: [file] }, choose('attachments_done')]);
    expect(s.value).toBe('summary');
    expect(s.context.draft.attachments).toEqual([file]);
    const cleared = await run([...toSummary, choose('edit_attachments'), { type: 'ATTACH', files: [file] }, choose('attachments_clear'), choose('attachments_done')]);
    expect(cleared.context.draft.attachments).toEqual([]);
  });

  it('shows a failure the person can retry, and the reference once it works', async () => {
    let calls = 0;
    const open = async (): Promise<OpenCaseOutput> => {
      calls++;
      if (calls === 1) throw new Error('db down');
      return { reference: 'PCE-000010', delivery: 'queued' };
    };
    const failed = await run([...toSummary, choose('confirm')], { open });
    expect(failed.value).toBe('openFailed');
    calls = 0;
    const retried = await run([...toSummary, choose('confirm'), choose('retry')], { open });
    expect(retried.value).toBe('opened');
    expect(view(retried).lines[0]).toEqual({ key: 'support-case:opened.reference', params: { reference: 'PCE-000010' } });
  });

  it('cannot be taken back once opened: BACK gets the short answer, with the external ticket id when the status has one', async () => {
    const status = async (): Promise<CaseStatusOutput> => ({ reference: 'PCE-000009', status: 'delivered', externalId: 'INC0010001' });
    const s = await run([...toSummary, choose('confirm'), { type: 'BACK' }, choose('refresh_status')], { status });
    expect(s.value).toBe('followUp');
    expect(s.context.opened?.reference).toBe('PCE-000009');
    expect(view(s).lines).toEqual([{ key: 'support-case:followUp.deliveredWithTicket', params: { reference: 'PCE-000009', externalId: 'INC0010001' } }]);
  });

  it('ends cancelled when the person goes back from the first question', async () => {
    const s = await run([{ type: 'BACK' }]);
    expect(s.status).toBe('done');
    expect(s.output).toEqual({ outcome: 'cancelled' });
  });
});
