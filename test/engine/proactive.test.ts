/**
 * Turns the bot starts on its own (src/engine/proactive.ts), with the real flows: an event starts
 * the case-closure flow over where the person stands, its buttons are ordinary turns, and when it
 * ends (or is left with BACK) the person is back at their question. A repeat is handled once; an
 * event for a conversation that is not stored, or that no flow answers, changes nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { agentTriageFlow } from '../../dialogs/agent-triage/machine';
import { caseClosureFlow } from '../../dialogs/case-closure/machine';
import { CASE_CLOSED_EVENT, type CaseClosedData } from '../../dialogs/case-closure/steps';
import { provisioningContactFlow } from '../../dialogs/provisioning-contact/machine';
import { supportCaseFlow } from '../../dialogs/support-case/index';
import { caseClosedFlow } from '../../src/cases/update-notices';
import { Engine } from '../../src/engine/engine';
import { eventInbound, ProactiveFlows } from '../../src/engine/proactive';
import type { Inbound, TurnResult } from '../../src/engine/types';
import { createTranslator } from '../../src/i18n';
import type { SqlStore } from '../../src/storage/index';
import { memoryStore } from '../storage/harness';
import { silentLogger } from '../support';

const translator = createTranslator();
const KEY = 'test:c1';
let store: SqlStore;
let engine: Engine;

const closed = (over: Partial<CaseClosedData['case']> = {}): CaseClosedData => ({
  case: { reference: 'PCE-000042', status: 'resolved', note: 'The contact is now new@customer.example.', ...over },
  draft: { orderNumber: '104857391', currentContactEmail: 'old@customer.example', newContactEmail: 'new@customer.example', requester: { id: 'u1', email: 'oksana@partner.example' } },
});

const base: Inbound = { channel: 'test', conversationId: 'c1', user: { id: 'u1' }, locale: 'en' };
const press = (id: string, step?: string) => engine.handle({ ...base, choice: { id, step } });
const say = (text: string) => engine.handle({ ...base, text });
const event = (id = 'u-1', data: unknown = closed(), name = CASE_CLOSED_EVENT) => engine.handle(eventInbound(KEY, 'u1', { name, id, data }));
const shown = (r: TurnResult) => r.messages.flatMap((m) => m.paragraphs);
const outcomes = async () =>
  (await store.db.selectFrom('funnel_events').select(['step', 'value']).where('kind', '=', 'outcome').orderBy('id').execute()).map((e) => `${e.step}:${e.value}`);

beforeEach(async () => {
  store = await memoryStore();
  engine = new Engine({
    store,
    flow: provisioningContactFlow,
    flows: [agentTriageFlow, supportCaseFlow, caseClosureFlow],
    proactive: new ProactiveFlows().register(CASE_CLOSED_EVENT, caseClosedFlow),
    translator,
    logger: silentLogger,
    clock: () => new Date('2026-11-25T10:00:00Z'),
  });
});

describe('a turn the bot starts on its own', () => {
  it('asks over a question with buttons, and a yes puts the person back at that question', async () => {
    await engine.handle({ ...base, kind: 'greeting' });
    const asked = await event();
    expect(asked.step).toBe('closureAsk');
    expect(shown(asked)).toEqual(['Support has marked your case PCE-000042 as resolved.', 'Is the problem solved now?']);
    expect(asked.messages[0]!.facts).toEqual([{ label: "Support engineer's note", value: 'The contact is now new@customer.example.' }]);
    expect(asked.messages[0]!.choices).toEqual([
      { id: 'worked', label: 'Yes, solved' },
      { id: 'failed', label: "No, it isn't" },
    ]);
    expect((await store.loadConversation(KEY))?.parents).toHaveLength(1);

    const yes = await press('worked', 'closureAsk');
    expect(yes.step).toBe('entry');
    expect(shown(yes)).toEqual(["Great, I'm glad it's solved. Thanks for letting me know.", 'What do you need?']);
    expect((await store.loadConversation(KEY))?.parents).toEqual([]);
    expect(await outcomes()).toEqual(['closureSolved:resolved_by_support']);
    // The guide goes on from there.
    expect((await press('never_arrived', 'entry')).step).toBe('spamCheck');
  });

  it('keeps its own ending when the person stood at an ending, and the next message starts over', async () => {
    await press('never_arrived');
    expect((await press('found', 'spamCheck')).outcome).toBe('resolved');
    await event();
    const yes = await say('yes');
    expect(yes.step).toBe('closureSolved');
    expect(yes.outcome).toBe('resolved_by_support');
    expect(shown(yes)).toEqual(["Great, I'm glad it's solved. Thanks for letting me know."]);
    expect(await outcomes()).toEqual(['emailFound:resolved', 'closureSolved:resolved_by_support']);
    expect((await say('the provisioning email never arrived')).step).toBe('entry');
  });

  it('understands a typed answer in Ukrainian, and BACK leaves the question for the one before', async () => {
    const uk = (text: string) => engine.handle({ ...base, text, locale: 'uk' });
    await uk('лист активації не прийшов');
    const asked = await event();
    expect(shown(asked)[0]).toBe('Команда підтримки позначила ваше звернення PCE-000042 як вирішене.');
    const no = await uk('ні, не вийшло');
    expect(no.step).toBe('closureOffer');
    expect((await uk('назад')).step).toBe('closureAsk');
    const left = await uk('назад');
    expect(left.step).toBe('spamCheck');
    expect(await outcomes()).toEqual([]);
  });

  it('records a wish to reopen, and opens a new case with what the closed one knew', async () => {
    await engine.handle({ ...base, kind: 'greeting' });
    await event('u-1');
    await press('failed', 'closureAsk');
    // No case backend here to pass the request to: the person is told how to ask support themselves.
    const reopen = await press('reopen', 'closureOffer');
    expect(shown(reopen)[0]).toContain("I can't pass this on to support from here. Please ask them to reopen PCE-000042");
    expect(reopen.step).toBe('entry');

    await event('u-2', closed({ reference: 'PCE-000043', status: 'closed' }));
    await press('failed', 'closureAsk');
    const intake = await press('new_case', 'closureOffer');
    // Only what the closed case did not know is asked; the rest is shown to confirm.
    expect(intake.step).toBe('subscriptionId');
    await press('dont_know', 'subscriptionId');
    const summary = await press('attachments_done', 'attachments');
    const facts = summary.messages.flatMap((m) => m.facts.map((f) => f.value));
    expect(facts).toEqual(expect.arrayContaining(['104857391', 'old@customer.example', 'new@customer.example']));
    expect(await outcomes()).toEqual(['closureReopenYourself:reopen_requested', 'closureNewCase:needs_case']);
  });

  it('handles the same event once', async () => {
    await engine.handle({ ...base, kind: 'greeting' });
    expect((await event('u-7')).step).toBe('closureAsk');
    await press('worked', 'closureAsk');
    const again = await event('u-7');
    expect(again.duplicate).toBe(true);
    expect((await store.loadConversation(KEY))?.flowId).toBe('provisioning-contact');
  });

  it('changes nothing for a conversation that is not stored, an unknown event or data the flow refuses', async () => {
    expect((await event()).skipped).toBe('no-conversation');
    expect(await store.loadConversation(KEY)).toBeUndefined();
    await engine.handle({ ...base, kind: 'greeting' });
    const turn = (await store.loadConversation(KEY))!.turn;
    expect((await event('u-1', closed(), 'noSuchEvent')).skipped).toBe('unknown-event');
    expect((await event('u-2', { case: { reference: 'PCE-1', status: 'open' }, draft: {} })).skipped).toBe('unknown-event');
    expect((await store.loadConversation(KEY))!.turn).toBe(turn);
  });
});
