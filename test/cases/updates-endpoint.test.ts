/**
 * POST /api/cases/events against the assembled app on a random port with CASE_BACKEND=webhook: the
 * signed raw body is the only way in, the contract's body is checked, an unknown reference is 404,
 * and a stored update is 200 (a repeat of its event id too, stored once). Without the webhook
 * backend there is no such route.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Application } from '../../src/app';
import { signBody } from '../../src/cases/backends/webhook';
import { MAX_EVENT_BYTES } from '../../src/cases/updates-endpoint';
import type { SqlStore } from '../../src/storage';
import { createApp, dataIn, testConfig, testDir } from '../support';
import { seedCase } from './helpers';

const SECRET = 'case-events-secret-0123456789';
let app: Application | undefined;
let url = '';
let dir = '';

beforeEach(() => {
  dir = testDir('case-events-').path;
});
afterEach(async () => {
  await app?.close(2_000);
  app = undefined;
});

async function start(extra: Record<string, string> = {}): Promise<Application> {
  app = await createApp(
    testConfig({
      ...dataIn(dir),
      CASE_BACKEND: 'webhook',
      // Nothing listens there: the seeded cases are delivered already, the outbox never calls it.
      CASE_WEBHOOK_URL: 'http://127.0.0.1:9/hooks/cases',
      CASE_WEBHOOK_SECRET: SECRET,
      WEBCHAT_ENABLED: 'false',
      ...extra,
    }),
  );
  url = (await app.listen(0, '127.0.0.1')).url;
  return app;
}

async function seedDelivered(a: Application) {
  return seedCase(a.store as SqlStore, { delivery: { backend: 'webhook', status: 'delivered', attempts: 1, externalId: 'TCK-1', deliveredAt: '2026-11-25T10:01:00.000Z' } });
}

function post(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/cases/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

function signed(body: string, secret = SECRET): Promise<Response> {
  return post(body, { 'x-signature-256': signBody(body, secret) });
}

describe('POST /api/cases/events', () => {
  it('refuses an unsigned update with 401 and stores nothing', async () => {
    const a = await start();
    const record = await seedDelivered(a);
    const res = await post(JSON.stringify({ eventId: 'e1', reference: record.reference, status: 'in_progress' }));
    expect(res.status).toBe(401);
    expect(await a.cases.updates.history(record.reference)).toEqual([]);
  });

  it('refuses an update signed with another secret with 401', async () => {
    const a = await start();
    const record = await seedDelivered(a);
    const res = await signed(JSON.stringify({ eventId: 'e1', reference: record.reference, status: 'in_progress' }), 'another-secret-0123456789');
    expect(res.status).toBe(401);
    expect(await a.cases.updates.history(record.reference)).toEqual([]);
  });

  it('checks the signature over the raw bytes: a re-serialised body of the same JSON is refused', async () => {
    const a = await start();
    const record = await seedDelivered(a);
    const sent = `{ "eventId": "e1", "reference": "${record.reference}", "status": "open" }`;
    const res = await post(sent, { 'x-signature-256': signBody(JSON.stringify(JSON.parse(sent)), SECRET) });
    expect(res.status).toBe(401);
    expect((await signed(sent)).status).toBe(200);
  });

  it('answers 404 for a reference no case has', async () => {
    await start();
    const res = await signed(JSON.stringify({ eventId: 'e1', reference: 'PCE-999999', status: 'open' }));
    expect(res.status).toBe(404);
  });

  it.each([
    ['not JSON', '{"eventId": '],
    ['an unknown status', JSON.stringify({ eventId: 'e1', reference: 'PCE-000001', status: 'escalated' })],
    ['no event id', JSON.stringify({ reference: 'PCE-000001', status: 'open' })],
    ['a field outside the contract', JSON.stringify({ eventId: 'e1', reference: 'PCE-000001', status: 'open', priority: 1 })],
    ['an array', '[]'],
  ])('answers 400 for a signed body that is %s', async (_what, body) => {
    await start();
    expect((await signed(body)).status).toBe(400);
  });

  it(`answers 413 for a body over ${MAX_EVENT_BYTES} bytes`, async () => {
    const a = await start();
    const record = await seedDelivered(a);
    const body = JSON.stringify({ eventId: 'e1', reference: record.reference, status: 'open', message: 'x'.repeat(MAX_EVENT_BYTES) });
    expect((await signed(body)).status).toBe(413);
  });

  it('stores a valid update and answers 200; its repeat is 200 and stored once', async () => {
    const a = await start();
    const record = await seedDelivered(a);
    const body = JSON.stringify({ eventId: 'evt-1', reference: record.reference, status: 'waiting_for_customer', ticketId: 'TCK-77', message: 'Please send a screenshot.' });
    const first = await signed(body);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'stored' });
    const again = await signed(body);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'repeat' });
    const history = await a.cases.updates.history(record.reference);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ eventId: 'evt-1', status: 'waiting_for_customer', ticketId: 'TCK-77', message: 'Please send a screenshot.' });
  });

  it('has no route when the case backend is not the webhook', async () => {
    await start({ CASE_BACKEND: 'local', CASE_WEBHOOK_URL: '', CASE_WEBHOOK_SECRET: '' });
    const body = JSON.stringify({ eventId: 'e1', reference: 'PCE-000001', status: 'open' });
    const res = await signed(body);
    expect([404, 405]).toContain(res.status);
  });
});
