/**
 * The whole loop through the assembled app with CASE_BACKEND=smartbonding, against a loopback
 * Smart Bonding: a walk in either language opens a case, the delivery worker creates the call, TAC
 * picks it up and asks a question (pulled and told in the web chat, once), the person answers in
 * the chat and the answer reaches TAC as a case update, and the solution comes back.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Application } from '../../src/app';
import { createTranslator } from '../../src/i18n';
import { captureLogs, createApp, dataIn, testConfig, testDir } from '../support';
import { FakeSmartBonding, startFakeSmartBonding } from '../support/fake-smartbonding';
import { botTexts, said, sender, startWebChat, walkToCase, type WebChat } from './walk';

const t = createTranslator();
let sb: FakeSmartBonding;
let app: Application | undefined;

beforeEach(async () => {
  sb = await startFakeSmartBonding();
});
afterEach(async () => {
  await app?.close(2_000);
  app = undefined;
  await sb.stop();
});

async function start(logger?: ReturnType<typeof captureLogs>['logger']): Promise<{ app: Application; url: string }> {
  app = await createApp(
    testConfig({
      ...dataIn(testDir('cases-smartbonding-').path),
      ...sb.env(),
      SMARTBONDING_POLL_SECONDS: '0.05',
      CASE_DELIVERY_POLL_SECONDS: '0.05',
      WEBCHAT_ENABLED: 'true',
    }),
    logger ? { logger } : {},
  );
  const { url } = await app.listen(0, '127.0.0.1');
  return { app, url };
}

const wait = { timeout: 10_000, interval: 50 };

/** What the web chat was told about the case at Cisco (the updates name the Cisco case number). */
async function told(url: string, c: WebChat, ticket: string): Promise<string[]> {
  return (await botTexts(url, c)).filter((text) => text.includes(ticket));
}

describe('a case through Cisco Smart Bonding', () => {
  it('in English: created, picked up, a question answered from the chat, solved; each update told once', async () => {
    const logs = captureLogs('debug');
    const { app, url } = await start(logs.logger);
    const c = await startWebChat(url, 'en');
    const send = sender(app, 'directline', c.conversationId, { id: c.userId, name: 'Iryna Koval', email: 'iryna@partner.example' }, 'en-US');
    const reference = await walkToCase(send);

    // The delivery worker creates the call: our reference, the English summary, the contact.
    await vi.waitFor(() => expect(sb.calls.has(reference)).toBe(true), wait);
    const created = sb.calls.get(reference)!.created as { Calls: Record<string, unknown> };
    expect(created.Calls).toMatchObject({ CustCallID: reference, CCP: { FirstName: 'Iryna', LastName: 'Koval', EMail: 'iryna@partner.example' }, MainComp: { InvNr: 'Sub123456' } });
    expect(created.Calls.Description).toContain('New Provisioning Contact Email: new@customer.example');
    await vi.waitFor(async () => expect((await app.cases.repository.findByReference(reference))!.delivery.status).toBe('delivered'), wait);

    // TAC picks it up, then asks a question.
    sb.tacUpdate(reference, { state: 'Update', spCallId: '694812345', remarks: 'Case assigned to TAC.' });
    sb.tacUpdate(reference, { state: 'Waiting for Customer', spCallId: '694812345', remarks: 'Please send the CCW order line screenshot.' });
    const pickedUp = [
      `Update on your support case ${reference} (ticket 694812345): an engineer is working on it.`,
      'The support engineer wrote: “Case assigned to TAC.”',
    ].join('\n\n');
    const question = [
      `Update on your support case ${reference} (ticket 694812345): waiting for your reply.`,
      'The support engineer wrote: “Please send the CCW order line screenshot.”',
      t.t('en', 'proactive:caseUpdate.waitingForYou'),
    ].join('\n\n');
    await vi.waitFor(async () => expect(await told(url, c, '694812345')).toEqual([pickedUp, question]), wait);
    expect(t.t('en', 'proactive:caseUpdate.waitingForYou')).toContain('reply here');

    // The person answers right here: a plain message, confirmed, and pushed to TAC as an update.
    const answer = await send({ text: 'Screenshot: the field is greyed out, order 104857391.' });
    expect(said(answer)).toContain(t.t('en', 'cases:add.confirmed', { reference }));
    await vi.waitFor(() => expect(sb.calls.get(reference)!.updates).toHaveLength(1), wait);
    const update = sb.calls.get(reference)!.updates[0] as { Calls: { CustCallID: string; Remarks: string }; CallStates: { ShortName: string } };
    expect(update.CallStates.ShortName).toBe('Update');
    expect(update.Calls.CustCallID).toBe(reference);
    expect(update.Calls.Remarks).toContain('Screenshot: the field is greyed out, order 104857391.');
    await vi.waitFor(async () => expect((await app.cases.additions.forCase(reference))[0]).toMatchObject({ status: 'delivered', attempts: 1, addedBy: `directline:${c.userId}` }), wait);

    // The solution comes back: stored and told once (how a resolution is shown is the closure flow's business).
    const before = (await botTexts(url, c)).length;
    sb.tacUpdate(reference, { state: 'Resolved', spCallId: '694812345', solution: 'The provisioning contact is now new@customer.example.' });
    await vi.waitFor(async () => expect((await app.cases.updates.history(reference)).at(-1)).toMatchObject({ status: 'resolved', message: 'The provisioning contact is now new@customer.example.' }), wait);
    await vi.waitFor(async () => expect(await app.cases.updates.countUntold()).toBe(0), wait);
    await vi.waitFor(async () => expect(await botTexts(url, c)).toHaveLength(before + 1), wait);
    // Nothing told twice, and the engineer's words are not in the log.
    await new Promise((r) => setTimeout(r, 300));
    expect(await botTexts(url, c)).toHaveLength(before + 1);
    expect(await app.cases.updates.history(reference)).toHaveLength(3);
    expect(logs.text()).not.toContain('greyed out');
    expect(logs.text()).not.toContain('CCW order line screenshot');
    expect(logs.text()).not.toMatch(/[\w.]+@(customer|partner)\.example/);
  });

  it('in Ukrainian: the walk reaches Smart Bonding with the English summary, and the update is told in Ukrainian', async () => {
    const { app, url } = await start();
    const c = await startWebChat(url, 'uk');
    const send = sender(app, 'directline', c.conversationId, { id: c.userId, name: 'Оксана' }, 'uk-UA');
    const reference = await walkToCase(send);

    await vi.waitFor(() => expect(sb.calls.has(reference)).toBe(true), wait);
    const calls = (sb.calls.get(reference)!.created as { Calls: Record<string, string> }).Calls;
    expect(calls.ShortDescription).toBe(`Change Provisioning Contact Email: order 104857391, subscription Sub123456 (${reference})`);
    expect(calls.Description).toContain('Conversation language: Ukrainian');
    expect(calls.Remarks).toMatch(/^Decision trail:\n1\. entry: change_contact/);

    await vi.waitFor(async () => expect((await app.cases.repository.findByReference(reference))!.delivery.status).toBe('delivered'), wait);
    sb.tacUpdate(reference, { state: 'Update', spCallId: '694800001', remarks: 'Працюємо.' });
    await vi.waitFor(
      async () =>
        expect(await told(url, c, '694800001')).toEqual([
          [`Новини щодо вашого звернення ${reference} (заявка 694800001): інженер підтримки працює над ним.`, 'Інженер підтримки написав: «Працюємо.»'].join('\n\n'),
        ]),
      wait,
    );

    // "додати до звернення: …" while the case is open (not waiting): confirmed in Ukrainian, pushed.
    const r = await send({ text: 'додати до звернення: замовлення оформили 3 травня' });
    expect(said(r)).toContain(t.t('uk', 'cases:add.confirmed', { reference }));
    await vi.waitFor(() => expect((sb.calls.get(reference)!.updates[0] as { Calls: { Remarks: string } })?.Calls.Remarks).toContain('замовлення оформили 3 травня'), wait);
  });
});
