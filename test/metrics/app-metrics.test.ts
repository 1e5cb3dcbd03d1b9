/**
 * /metrics on the assembled application: real turns through the real flow, a case delivered by the
 * running app's worker to a real signed-webhook receiver, scraped over HTTP with the token.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it, vi } from 'vitest';
import type { Inbound } from '../../src/engine/types';
import { useWebhookApp } from '../cases/webhook-app';

const TOKEN = 'metrics-app-token-0123456789';
const env = useWebhookApp('metrics-test-webhook-secret-01', 'metrics-app-');

function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = parsePrometheusTextFormat(text).find((f) => f.name === name);
  const found = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found ? Number(found.value) : undefined;
}

describe('GET /metrics of the assembled app', () => {
  it('moves with real turns and case deliveries, behind the token', async () => {
    const app = await env.start({ METRICS_TOKEN: TOKEN });
    // Its read-ahead readers started (a warm-up asked before then may be given up on: counted apart).
    await app.store.readAhead?.ready();
    const send = (extra: Partial<Inbound>) =>
      app.engine.handle({ channel: 'msteams', conversationId: 'metrics-1', user: { id: 'aad-m' }, locale: 'en-US', ...extra });

    await send({ kind: 'greeting' });
    for (const id of ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed', 'none_helped']) await send({ choice: { id } });
    for (const text of ['104857391', 'Sub123456', 'old@customer.example', 'new@customer.example']) await send({ text });
    await send({ choice: { id: 'attachments_done' } });
    expect((await send({ choice: { id: 'confirm' } })).outcome).toBe('case_opened');

    // Before the worker runs (it starts on listen), the case waits in the outbox.
    const before = (await app.metrics.render()).body;
    expect(value(before, 'pce_bot_case_outbox_pending')).toBe(1);
    expect(value(before, 'pce_bot_turns_total', { channel: 'msteams', outcome: 'in_progress' })).toBe(12);
    expect(value(before, 'pce_bot_turns_total', { channel: 'msteams', outcome: 'case_opened' })).toBe(1);
    // The store is a SQLite file: the conversation's first turn was read ahead on the worker, the
    // others ran on the live flow actor; no turn gave up waiting for the disk.
    expect(value(before, 'pce_bot_sqlite_read_ahead_total', { result: 'warmed' })).toBe(1);
    expect(value(before, 'pce_bot_sqlite_read_ahead_total', { result: 'overdue' })).toBe(0);
    expect(value(before, 'pce_bot_sqlite_read_ahead_wait_seconds_total')).toBeGreaterThan(0);

    const { url } = await app.listen(0, '127.0.0.1');
    await vi.waitFor(() => expect(env.receiver.accepted.size).toBe(1), { timeout: 10_000 });
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    await vi.waitFor(
      async () => {
        const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(value(text, 'pce_bot_case_deliveries_total', { backend: 'webhook', result: 'delivered' })).toBe(1);
        expect(value(text, 'pce_bot_case_outbox_pending')).toBe(0);
      },
      { timeout: 10_000 },
    );
  });
});
