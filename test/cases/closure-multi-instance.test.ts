/**
 * Issue 21 item 5 in the web chat, with two bot instances on one PostgreSQL schema: the "resolved"
 * update arrives at both (twice each), both run the notice worker, and the person's activity stream
 * gets the question, with its buttons, exactly once; a press on it, posted to the other instance, is
 * an ordinary turn.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { signBody } from '../../src/cases/backends/webhook';
import type { SqlStore } from '../../src/storage/index';
import { DirectLineTestClient } from '../channels/directline/harness';
import { dropPostgresSchema, startInstance, uniqueName, type Instance } from '../support';
import { seedCase } from './helpers';

const SECRET = 'multi-instance-closure-secret';
const schemas: string[] = [];
const servers: Instance[] = [];

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const schema of schemas) await dropPostgresSchema(schema);
});

type Activity = { type: string; text?: string; from: { role?: string }; attachments?: { content?: { body?: unknown[]; actions?: { title: string; data?: unknown }[] } }[] };

/** A bot message's words: its text, or its card's text blocks and facts. */
function wordsOf(a: Activity): string {
  const card = a.attachments?.[0]?.content;
  return [a.text ?? '', JSON.stringify(card?.body ?? [])].join(' ');
}

describe('case closure in the web chat with two instances on PostgreSQL', () => {
  it('asks once, whichever instance tells it, and the press is answered', async () => {
    const schema = uniqueName('case_closure');
    schemas.push(schema);
    const env = { CASE_BACKEND: 'webhook', CASE_WEBHOOK_URL: 'http://127.0.0.1:9/hooks/cases', CASE_WEBHOOK_SECRET: SECRET, CASE_DELIVERY_POLL_SECONDS: '0.02', WEBCHAT_ENABLED: 'true' };
    const a = await startInstance(schema, 'a', env);
    servers.push(a);
    const b = await startInstance(schema, 'b', env);
    servers.push(b);

    const dlA = new DirectLineTestClient(a.url);
    const dlB = new DirectLineTestClient(b.url);
    const c = await dlA.startOk({ locale: 'en' });
    const bot = async (): Promise<Activity[]> => ((await dlB.getOk(c)).activities as unknown as Activity[]).filter((x) => x.type === 'message' && x.from.role === 'bot');
    await vi.waitFor(async () => expect((await bot()).length).toBeGreaterThan(0), { timeout: 10_000, interval: 50 });
    const record = await seedCase(a.app.store as SqlStore, {
      conversationKey: `directline:${c.conversationId}`,
      channel: 'directline',
      locale: 'en',
      delivery: { backend: 'webhook', status: 'delivered', attempts: 1, deliveredAt: '2026-11-25T10:01:00.000Z' },
    });

    const body = JSON.stringify({ eventId: 'evt-closure', reference: record.reference, status: 'resolved', message: 'Fixed on our side.' });
    const headers = { 'content-type': 'application/json', 'x-signature-256': signBody(body, SECRET) };
    const posts = [a, b, a, b].map((s) => fetch(`${s.url}/api/cases/events`, { method: 'POST', headers, body }));
    for (const res of await Promise.all(posts)) expect(res.status).toBe(200);
    await vi.waitFor(async () => expect(await a.app.cases.updates.countUntold()).toBe(0), { timeout: 20_000, interval: 50 });
    // A few more passes of both workers: nothing is asked again.
    await new Promise((r) => setTimeout(r, 300));

    const asked = (await bot()).filter((x) => wordsOf(x).includes('Is the problem solved now?'));
    expect(asked).toHaveLength(1);
    const question = asked[0]!;
    expect(wordsOf(question)).toContain(`Support has marked your case ${record.reference} as resolved.`);
    expect(wordsOf(question)).toContain('Fixed on our side.');
    const buttons = question.attachments![0]!.content!.actions!;
    expect(buttons.map((x) => x.title)).toEqual(['Yes, solved', "No, it isn't"]);

    const press = await dlB.post(c, { type: 'message', from: { id: c.userId }, value: buttons[1]!.data });
    expect(press.status).toBe(200);
    await vi.waitFor(async () => expect((await bot()).map(wordsOf).join(' ')).toContain('Should I ask support to reopen'), { timeout: 10_000, interval: 50 });
  });
});
