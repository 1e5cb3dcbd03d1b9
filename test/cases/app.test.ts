/**
 * Through the assembled application and the real troubleshooting flow: N8's last failed fix hands
 * over (N9) to the intake, the case is stored, the running app's delivery worker posts it to a real
 * signed-webhook receiver, and the person's next message shows the external ticket id.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Inbound } from '../../src/engine/types';
import { createTranslator } from '../../src/i18n';
import { captureLogs } from '../support';
import { useWebhookApp, WEBHOOK_PATH } from './webhook-app';

const env = useWebhookApp('app-test-webhook-secret-0123', 'cases-app-');

describe('support cases in the assembled app', () => {
  it('walks the real flow to N9, opens the case, delivers it, and tells the person the ticket id on the next turn', async () => {
    const logs = captureLogs('debug');
    const app = await env.start({}, logs.logger);
    const user = { id: 'aad-1', name: 'Iryna', email: 'iryna@partner.example' };
    const send = (extra: Partial<Inbound>) => app.engine.handle({ channel: 'msteams', conversationId: 'teams-conv-1', user, locale: 'en-US', ...extra });

    await send({ kind: 'greeting' });
    for (const id of ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed', 'incognito', 'failed', 'cache_cookies', 'failed']) {
      await send({ choice: { id } });
    }
    let r = await send({ choice: { id: 'other_browser' } });
    r = await send({ choice: { id: 'failed' } });
    expect(r.step).toBe('orderNumber');
    for (const text of ['104857391', 'Sub123456', 'old@customer.example', 'new@customer.example']) r = await send({ text });
    r = await send({ choice: { id: 'attachments_done' } });
    expect(r.step).toBe('summary');
    r = await send({ choice: { id: 'confirm', step: 'summary' } });
    expect(r.outcome).toBe('case_opened');
    expect(r.messages[0]!.paragraphs.join(' ')).toContain('PCE-000001');

    const stored = (await app.cases!.repository.findByReference('PCE-000001'))!;
    expect(stored.delivery).toMatchObject({ backend: 'webhook', status: 'pending', attempts: 0 });
    expect(stored).toMatchObject({ reason: 'fixes_failed', orderLineStatus: 'awaiting', canEditInCcw: 'yes', ponrPassed: 'no' });
    expect(stored.fixesTried).toEqual(['edit_steps', 'incognito', 'cache_cookies', 'other_browser']);
    expect(stored.trail.slice(0, 4)).toEqual([
      { step: 'entry', choice: 'change_contact' },
      { step: 'orderLineStatus', choice: 'awaiting' },
      { step: 'editAccess', choice: 'can_edit' },
      { step: 'ponrCheck', choice: 'not_onboarded' },
    ]);
    expect(stored.trail.at(-1)).toEqual({ step: 'case.summary', choice: 'confirm' });

    // The running app's worker delivers it.
    await app.listen(0, '127.0.0.1');
    await vi.waitFor(async () => expect((await app.cases!.repository.findByReference('PCE-000001'))!.delivery.status).toBe('delivered'), {
      timeout: 10_000,
    });
    expect(env.receiver.accepted.size).toBe(1);
    expect(env.receiver.receiver.requests[0]!.url).toBe(WEBHOOK_PATH);

    // The short answer after the case was opened: where it stands (the ticket id) and what happens next.
    r = await send({ text: 'any news?' });
    expect(r.step).toBe('followUp');
    expect(r.messages[0]!.paragraphs).toEqual([
      createTranslator().t('en', 'support-case:followUp.deliveredWithTicket', { reference: 'PCE-000001', externalId: 'TCK-PCE-000001' }),
    ]);
    expect(r.messages[0]!.paragraphs[0]).toMatch(/PCE-000001 has reached the support team as ticket TCK-PCE-000001/);
    // Emails are in the case, never in the logs.
    const logText = logs.text();
    expect(logText).toContain('case opened');
    expect(logText).toContain('case delivered');
    expect(logText).not.toMatch(/[\w.]+@(customer|partner)\.example/);
    const metrics = await app.metrics.render();
    expect(metrics.body).toMatch(/case_deliveries_total\{[^}]*backend="webhook"[^}]*result="delivered"[^}]*\} 1/);
  });
});
