import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Application } from '../../../src/app';
import type { Inbound, TurnResult } from '../../../src/engine/types';
import { rowToCase } from '../../../src/cases/repository';
import type { SqlStore } from '../../../src/storage/index';
import { createApp, dataIn, testConfig, testDir } from '../../support';

/** As the Teams channel hands over an agent whose token was validated: the AAD object id is proven. */
const AGENT = { id: 'aad-agent-7', name: 'Olena Agent', verified: [{ scheme: 'aad' as const, value: 'aad-agent-7' }] };
const CUSTOMER = { name: 'Maria Customer', email: 'maria@customer.example', order: '104857391' };
const TRIAGE_WORD = { en: 'triage', uk: 'тріаж' } as const;
const LOCALE_HINT = { en: 'en-US', uk: 'uk-UA' } as const;

let app: Application;

beforeEach(async () => {
  app = await createApp(testConfig({ ...dataIn(testDir('agent-triage-').path), AGENT_IDS: `someone-else, ${AGENT.id}` }));
});

afterEach(async () => {
  await app.close(1000);
});

type Locale = 'en' | 'uk';

function conversation(locale: Locale, conversationId = `agent-${locale}`) {
  let last: TurnResult | undefined;
  const send = async (extra: Partial<Inbound>) => {
    last = await app.engine.handle({ channel: 'msteams', conversationId, user: AGENT, locale: LOCALE_HINT[locale], ...extra });
    return last;
  };
  return {
    say: (text: string) => send({ text }),
    /** Presses a button the bot offers now (fails if it is not offered). */
    press: async (id: string) => {
      const offered = last!.messages.flatMap((m) => m.choices).map((c) => c.id);
      expect(offered, `"${id}" offered at ${last!.step}`).toContain(id);
      return send({ choice: { id, step: last!.step } });
    },
    text: () => last!.messages.flatMap((m) => m.paragraphs).join('\n'),
    last: () => last!,
  };
}

async function startTriage(locale: Locale, c = conversation(locale)) {
  await c.say(TRIAGE_WORD[locale]);
  expect(c.last().step).toBe('customerName');
  await c.say(CUSTOMER.name);
  await c.say(CUSTOMER.email);
  await c.say(CUSTOMER.order);
  expect(c.last().step).toBe('entry');
  return c;
}

async function storedCases() {
  const { rows } = await sql`select * from cases`.execute((app.store as SqlStore).db);
  return rows.map(rowToCase);
}

describe.each(['en', 'uk'] as const)('agent triage in %s', (locale) => {
  const t = (key: string, params?: Record<string, unknown>) => app.translator.t(locale, key, params);

  it('phrases each step as what to ask the customer with the article’s reason', async () => {
    const c = await startTriage(locale);
    expect(c.text()).toContain(t('agent:ask.entry'));
    expect(c.text()).toContain(t('agent:reason.entry'));
    await c.press('never_arrived');
    expect(c.last().step).toBe('spamCheck');
    expect(c.text()).toContain(t('agent:ask.spamCheck', { sender: 'webex_comm@webex.com' }));
    expect(c.text()).toContain(t('agent:reason.spamCheck', { sender: 'webex_comm@webex.com' }));
    // The customer is shown, and the earlier question can be jumped back to.
    const facts = c.last().messages[0]!.facts.map((f) => f.value);
    expect(facts).toEqual(expect.arrayContaining([CUSTOMER.name, CUSTOMER.email, CUSTOMER.order]));
    expect(c.last().messages[0]!.choices.map((ch) => ch.id)).toContain('jump.entry');
  });

  it('ends with case notes holding every answer and opens the case marked as opened by the agent', async () => {
    const c = await startTriage(locale);
    const path: [step: string, choice: string][] = [
      ['entry', 'never_arrived'],
      ['spamCheck', 'not_found'],
      ['orderLineStatus', 'awaiting'],
      ['editAccess', 'can_edit'],
      ['ponrCheck', 'not_onboarded'],
      ['editSteps', 'failed'],
      ['browserFixes', 'cache_cookies'],
      ['retryEdit', 'failed'],
      ['browserFixes', 'none_helped'],
    ];
    for (const [step, choice] of path) {
      expect(c.last().step).toBe(step);
      await c.press(choice);
    }
    expect(c.last().step).toBe('needsCase');
    expect(c.last().outcome).toBe('needs_case');

    const notes = c.text();
    expect(notes).toContain(t('agent:notes.heading'));
    expect(notes).toContain(t('agent:notes.customer', { name: CUSTOMER.name, email: CUSTOMER.email, orderNumber: CUSTOMER.order }));
    path.forEach(([step, choice], i) => {
      expect(notes).toContain(`${i + 1}. ${t(`diagram:provisioning-contact.${step}`)}: ${t(`provisioning-contact:${step}.choices.${choice}`)}`);
    });
    expect(notes).toContain(t('agent:outcome.needsCase'));
    expect(notes).toContain(`${t('provisioning-contact:facts.orderLineStatus')}: ${t('provisioning-contact:facts.status.awaiting')}`);
    expect(notes).not.toMatch(/\$t\(|\{\{|agent:\S|provisioning-contact:\S/);

    // Open the case for the customer: the intake already knows the order number.
    await c.press('cmd.support');
    expect(c.last().step).toBe('subscriptionId');
    await c.say('Sub123456');
    await c.say('old.contact@customer.example');
    await c.say('new.contact@customer.example');
    expect(c.last().step).toBe('attachments');
    await c.press('attachments_done');
    expect(c.last().step).toBe('summary');
    await c.press('confirm');
    expect(c.last().outcome).toBe('case_opened');

    const [opened, ...others] = await storedCases();
    expect(others).toEqual([]);
    expect(opened!.openedBy).toMatchObject({ kind: 'agent', userKey: `msteams:${AGENT.id}`, name: AGENT.name });
    expect(opened!.customer).toEqual({ name: CUSTOMER.name, email: CUSTOMER.email });
    expect(opened!.orderNumber).toBe(CUSTOMER.order);
    expect(opened!.locale).toBe(locale);
    for (const [step, choice] of path) expect(opened!.trail).toContainEqual({ step, choice });
    expect(c.text()).toContain(opened!.reference);
  });

  it('a resolved triage still gives notes and can open the case for the customer', async () => {
    const c = await startTriage(locale);
    await c.press('never_arrived');
    await c.press('found');
    expect(c.last().outcome).toBe('resolved');
    expect(c.text()).toContain(`1. ${t('diagram:provisioning-contact.entry')}: ${t('provisioning-contact:entry.choices.never_arrived')}`);
    expect(c.text()).toContain(`2. ${t('diagram:provisioning-contact.spamCheck')}: ${t('provisioning-contact:spamCheck.choices.found')}`);
    expect(c.text()).toContain(t('agent:outcome.emailFound'));
    await c.press('cmd.support');
    expect(c.last().step).toBe('subscriptionId');
  });
});

describe('jumping back in an agent triage', () => {
  it('returns to any earlier question and discards the answers given after it', async () => {
    const c = await startTriage('en');
    await c.press('change_contact');
    await c.press('awaiting');
    await c.press('can_edit');
    expect(c.last().step).toBe('ponrCheck');
    expect(c.last().messages[0]!.choices.map((ch) => ch.id)).toEqual(expect.arrayContaining(['jump.entry', 'jump.orderLineStatus', 'jump.editAccess']));

    await c.press('jump.orderLineStatus');
    expect(c.last().step).toBe('orderLineStatus');
    // Only the questions before the one jumped to can still be jumped to.
    expect(c.last().messages[0]!.choices.filter((ch) => ch.id.startsWith('jump.')).map((ch) => ch.id)).toEqual(['jump.entry']);

    await c.press('closed');
    expect(c.last().step).toBe('closedOrder');
    await c.press('cannot_edit');
    expect(c.last().outcome).toBe('forwarded_to_owner');
    const notes = c.text();
    const t = (key: string) => app.translator.t('en', key);
    expect(notes).toContain(`1. ${t('diagram:provisioning-contact.entry')}: ${t('provisioning-contact:entry.choices.change_contact')}`);
    expect(notes).toContain(`2. ${t('diagram:provisioning-contact.orderLineStatus')}: ${t('provisioning-contact:orderLineStatus.choices.closed')}`);
    expect(notes).toContain(`3. ${t('diagram:provisioning-contact.closedOrder')}: ${t('provisioning-contact:closedOrder.choices.cannot_edit')}`);
    // The discarded answers are gone from the notes and from what the flow knows.
    expect(notes).not.toContain(t('provisioning-contact:orderLineStatus.choices.awaiting'));
    expect(notes).not.toContain(t('diagram:provisioning-contact.editAccess'));
    expect(notes).toContain(`${t('provisioning-contact:facts.orderLineStatus')}: ${t('provisioning-contact:facts.status.closed')}`);
  });

  it('cannot jump to a question that was not answered', async () => {
    const c = await startTriage('en');
    await c.press('never_arrived');
    const r = await app.engine.handle({ channel: 'msteams', conversationId: 'agent-en', user: AGENT, choice: { id: 'jump.ponrCheck', step: 'spamCheck' } });
    expect(r.step).toBe('spamCheck');
    expect(r.stale).toBe(true);
  });
});
