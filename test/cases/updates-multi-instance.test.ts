/**
 * Issue 21: two bot servers on one PostgreSQL schema take case updates (each receives some) and
 * both run the notice worker; the person hears every update exactly once, in order of arrival per
 * pass, never twice.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { signBody } from '../../src/cases/backends/webhook';
import type { SqlStore } from '../../src/storage/index';
import { dropPostgresSchema, startInstance, uniqueName, type Instance } from '../support';
import { seedCase } from './helpers';

const SECRET = 'multi-instance-updates-secret';
const schemas: string[] = [];
const servers: Instance[] = [];

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const schema of schemas) await dropPostgresSchema(schema);
});

type Activity = { type: string; text?: string; from: { role?: string } };

describe('case updates with two instances on PostgreSQL', () => {
  it('tells each update once, whichever instance received it', async () => {
    const schema = uniqueName('case_updates');
    schemas.push(schema);
    const env = {
      CASE_BACKEND: 'webhook',
      CASE_WEBHOOK_URL: 'http://127.0.0.1:9/hooks/cases',
      CASE_WEBHOOK_SECRET: SECRET,
      CASE_DELIVERY_POLL_SECONDS: '0.02',
      WEBCHAT_ENABLED: 'true',
    };
    const a = await startInstance(schema, 'a', env);
    servers.push(a);
    const b = await startInstance(schema, 'b', env);
    servers.push(b);

    const started = await fetch(`${a.url}/directline/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ locale: 'en' }) });
    const c = (await started.json()) as { conversationId: string; token: string };
    const read = async (): Promise<string[]> => {
      const res = await fetch(`${b.url}/directline/conversations/${c.conversationId}/activities`, { headers: { authorization: `Bearer ${c.token}` } });
      const body = (await res.json()) as { activities: Activity[] };
      return body.activities.filter((x) => x.type === 'message' && x.from.role === 'bot').map((x) => x.text ?? '').filter((text) => text.includes('note #'));
    };
    const record = await seedCase(a.app.store as SqlStore, {
      conversationKey: `directline:${c.conversationId}`,
      channel: 'directline',
      locale: 'en',
      delivery: { backend: 'webhook', status: 'delivered', attempts: 1, deliveredAt: '2026-11-25T10:01:00.000Z' },
    });

    const count = 20;
    const sends = Array.from({ length: count }, (_, i) => {
      const body = JSON.stringify({ eventId: `evt-${i}`, reference: record.reference, status: 'in_progress', message: `note #${i}` });
      const target = i % 2 ? a : b;
      // Every event also arrives a second time, at the other instance.
      const other = i % 2 ? b : a;
      const headers = { 'content-type': 'application/json', 'x-signature-256': signBody(body, SECRET) };
      return Promise.all([
        fetch(`${target.url}/api/cases/events`, { method: 'POST', headers, body }),
        fetch(`${other.url}/api/cases/events`, { method: 'POST', headers, body }),
      ]);
    });
    for (const pair of await Promise.all(sends)) for (const res of pair) expect(res.status).toBe(200);

    await vi.waitFor(async () => expect(await a.app.cases.updates.countUntold()).toBe(0), { timeout: 20_000, interval: 50 });
    // A few more passes of both workers: nothing is told again.
    await new Promise((r) => setTimeout(r, 300));
    const told = await read();
    expect(told).toHaveLength(count);
    expect(new Set(told).size).toBe(count);
    for (let i = 0; i < count; i++) expect(told.filter((text) => text.includes(`“note #${i}”`))).toHaveLength(1);
    expect(await a.app.cases.updates.history(record.reference)).toHaveLength(count);
  });
});
