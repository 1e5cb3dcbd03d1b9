/**
 * Going back to a flow's first question asks it again without the greeting or intro that opened
 * the run; a first message and "start over" still greet. Through the real engine, flows and
 * translations, in both languages, as the person reads it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { agentTriageFlow } from '../../dialogs/agent-triage/machine';
import type { Locale } from '../../dialogs/flow';
import { provisioningContactFlow } from '../../dialogs/provisioning-contact/machine';
import { supportCaseFlow } from '../../dialogs/support-case';
import { Engine } from '../../src/engine/engine';
import type { Inbound, TurnResult } from '../../src/engine/types';
import { createTranslator } from '../../src/i18n';
import { Agents } from '../../src/security/identity';
import { memoryStore } from '../storage/harness';
import { silentLogger } from '../support';

const translator = createTranslator();
const AGENT = { id: 'agent-1', name: 'Olena Agent', verified: [{ scheme: 'aad' as const, value: 'agent-1' }] };
let engine: Engine;

beforeEach(async () => {
  engine = new Engine({
    store: await memoryStore(),
    flow: provisioningContactFlow,
    flows: [supportCaseFlow, agentTriageFlow],
    translator,
    logger: silentLogger,
    agents: new Agents([AGENT.id]),
  });
});

const WORDS: Record<Locale, { back: string; startOver: string; support: string; triage: string; neverArrived: string }> = {
  en: { back: 'back', startOver: 'start over', support: 'support', triage: 'triage', neverArrived: 'never arrived' },
  uk: { back: 'назад', startOver: 'спочатку', support: 'підтримка', triage: 'тріаж', neverArrived: 'лист не прийшов' },
};

function person(locale: Locale, user: Inbound['user'] = { id: 'person-1' }) {
  const base: Inbound = { channel: 'test', conversationId: `conv-${locale}`, user, locale };
  return {
    greet: async () => shown(await engine.handle({ ...base, kind: 'greeting' })),
    say: async (text: string) => shown(await engine.handle({ ...base, text })),
  };
}

const shown = (r: TurnResult): string[] => r.messages.flatMap((m) => m.paragraphs);

describe.each(['en', 'uk'] as const)('going back to the first question (%s)', (locale) => {
  const t = (key: string) => translator.t(locale, key);
  const w = WORDS[locale];
  const greeting = t('provisioning-contact:entry.greeting');
  const question = t('provisioning-contact:entry.prompt');

  it('the guide asks its first question again without greeting, and still greets a new or restarted run', async () => {
    const p = person(locale);
    expect(await p.greet()).toEqual([greeting, question]);
    expect(greeting).toMatch(locale === 'en' ? /^Hi!/ : /^Вітаю!/);
    await p.say(w.neverArrived);
    expect(await p.say(w.back)).toEqual([question]);
    // Back again at the first question: nothing to undo, still no greeting.
    expect(await p.say(w.back)).toEqual([t('provisioning-contact:common.nothingToUndo'), question]);
    expect(await p.say(w.startOver)).toEqual([t('common:startedAgain'), greeting, question]);
  });

  it('the support-case intake asks its first field again without its opening paragraph', async () => {
    const p = person(locale);
    await p.greet();
    const intake = await p.say(w.support);
    const orderNumber = t('support-case:orderNumber.prompt');
    // Asked for by the person: why a case, and what to have at hand.
    expect(intake).toEqual([t('support-case:handoff.requested'), orderNumber]);
    expect(await p.say('104857391')).toEqual([t('support-case:subscriptionId.prompt')]);
    expect(await p.say(w.back)).toEqual([orderNumber]);
  });

  it('back from the support-case intake to the first question asks it again without the greeting', async () => {
    const p = person(locale);
    await p.greet();
    expect(await p.say(w.support)).toEqual([t('support-case:handoff.requested'), t('support-case:orderNumber.prompt')]);
    expect(await p.say(w.back)).toEqual([question]);
    // Answering it goes on as usual; a restart still greets.
    expect(await p.say(w.neverArrived)).toContain(t('provisioning-contact:spamCheck.prompt'));
    expect(await p.say(w.startOver)).toEqual([t('common:startedAgain'), greeting, question]);
  });

  it('agent triage asks for the customer’s name again without its intro', async () => {
    const agent = person(locale, AGENT);
    const name = t('agent:intake.customerName.prompt');
    expect(await agent.say(w.triage)).toEqual([t('agent:intake.intro'), name]);
    expect(await agent.say('Taras Shevchenko')).toEqual([t('agent:intake.customerEmail.prompt')]);
    expect(await agent.say(w.back)).toEqual([name]);
  });
});
