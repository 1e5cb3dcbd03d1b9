import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { agentTriageFlow } from '../../../dialogs/agent-triage/machine';
import { provisioningContactFlow } from '../../../dialogs/provisioning-contact/machine';
import { Engine } from '../../../src/engine/engine';
import type { Inbound, TurnResult } from '../../../src/engine/types';
import { createTranslator } from '../../../src/i18n';
import { createStore, type SqlStore } from '../../../src/storage/index';
import { Agents } from '../../../src/security/identity';
import { silentLogger, testDir } from '../../support';

const translator = createTranslator();
const AGENT = { id: 'aad-agent-1', name: 'Olena Agent', verified: [{ scheme: 'aad' as const, value: 'aad-agent-1' }] };
let store: SqlStore;
let engine: Engine;

beforeEach(async () => {
  store = createStore(`sqlite:${testDir('agent-intake-').join('bot.sqlite')}`, silentLogger);
  await store.open();
  engine = new Engine({
    store,
    flow: provisioningContactFlow,
    flows: [agentTriageFlow],
    translator,
    logger: silentLogger,
    agents: new Agents(['aad-agent-1', 'agent@partner.example']),
  });
});

afterEach(async () => {
  await store.close();
});

const text = (r: TurnResult) => r.messages.flatMap((m) => m.paragraphs).join('\n');
const send = (user: Inbound['user'], said: string, conversationId = 'c1', channel = 'msteams') =>
  engine.handle({ channel, conversationId, user, text: said, locale: 'en-US' });

describe('starting agent triage', () => {
  it.each([
    ['en', 'triage', 'en-US'],
    ['uk', 'тріаж', 'uk-UA'],
  ] as const)('politely refuses a person who is not an agent (%s)', async (locale, word, hint) => {
    const person = { id: 'aad-customer-9', name: 'Just A Customer' };
    const first = await engine.handle({ channel: 'msteams', conversationId: 'c1', user: person, kind: 'greeting', locale: hint });
    const refused = await engine.handle({ channel: 'msteams', conversationId: 'c1', user: person, text: word, locale: hint });
    expect(text(refused)).toContain(translator.t(locale, 'agent:notAgent'));
    // Still on the same question of their own self-service guide.
    expect(refused.step).toBe(first.step);
    const funnel = await store.db.selectFrom('funnel_events').select('mode').execute();
    expect(funnel.every((e) => e.mode === 'self')).toBe(true);
  });

  it('recognises an agent by an email Webex proved, and not by an email that is merely claimed', async () => {
    const claimed = await engine.handle({ channel: 'directline', conversationId: 'wc', user: { id: 'agent@partner.example', email: 'agent@partner.example' }, text: 'triage' });
    expect(claimed.step).not.toBe('customerName');
    expect(text(claimed)).toContain(translator.t('en', 'agent:notAgent'));
    const proven = { id: 'person-xyz', email: 'agent@partner.example', verified: [{ scheme: 'email' as const, value: 'Agent@Partner.example' }] };
    const r = await engine.handle({ channel: 'webex', conversationId: 'room', user: proven, text: 'triage' });
    expect(r.step).toBe('customerName');
  });

  it('asks the customer name, email and order number, then continues the guide in agent mode', async () => {
    const started = await send(AGENT, 'triage');
    expect(started.step).toBe('customerName');
    expect(text(started)).toContain(translator.t('en', 'agent:intake.customerName.prompt'));

    expect((await send(AGENT, 'Maria Customer')).step).toBe('customerEmail');
    const wrong = await send(AGENT, 'not an email');
    expect(wrong.step).toBe('customerEmail');
    expect(text(wrong)).toContain(translator.t('en', 'support-case:email.hintInvalid'));
    expect((await send(AGENT, 'maria@customer.example')).step).toBe('customerOrder');
    const handedOver = await send(AGENT, 'SO 104857391');
    expect(handedOver.step).toBe(provisioningContactFlow.view(createInitial()).step);

    const conversation = await store.loadConversation('msteams:c1');
    expect(conversation?.flowId).toBe('provisioning-contact');
    const input = (conversation?.snapshot as { context: { input: { mode: string; customer: unknown; user: { id: string } } } }).context.input;
    expect(input.mode).toBe('agent');
    expect(input.user.id).toBe(AGENT.id);
    expect(input.customer).toEqual({ name: 'Maria Customer', email: 'maria@customer.example', orderNumber: '104857391' });

    const modes = await store.db.selectFrom('funnel_events').select(['mode', 'kind', 'step']).execute();
    expect(modes.filter((e) => e.step === 'customerName').every((e) => e.mode === 'agent')).toBe(true);
    expect(modes.some((e) => e.kind === 'outcome' && e.step === 'handOff')).toBe(true);
    // No personal data in the funnel.
    expect(JSON.stringify(modes)).not.toMatch(/Maria|customer\.example|104857391/);
  });

  it('going back in the intake forgets what was entered from there on', async () => {
    await send(AGENT, 'triage');
    await send(AGENT, 'Maria Customer');
    const back = await send(AGENT, 'back');
    expect(back.step).toBe('customerName');
    expect(back.messages[0]!.facts).toEqual([]);
  });
});

function createInitial() {
  // The guide's first step, computed from the flow itself rather than hard-coded.
  const input = { locale: 'en', channel: 'msteams', user: { id: 'x' }, mode: 'agent', startedAt: '2026-01-01T00:00:00.000Z' } as const;
  return createActor(provisioningContactFlow.machine, { input }).getSnapshot();
}
