/**
 * The HTTP case backends do not follow redirects (issue 14, item 12). A receiver (or whoever took
 * over its address) answering 3xx must not steer the signed case, with its personal data, or the
 * ServiceNow credentials to another server: the attempt fails with a reason an operator can act
 * on, is retried like any other failure, and the second server receives nothing. Real local HTTP
 * servers on both ends; cases in a real SQLite store.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createServiceNowBackend, createWebhookBackend, DeliveryError } from '../../../src/cases/backends/index';
import { fixtureTranslator } from '../../dialogs/support-case/fixture-entry';
import { CREATED_AT, httpReceiver, json, seedCase, type HttpReceiver } from '../helpers';
import { useCaseOutboxes } from './harness';

const translator = fixtureTranslator();
const cases = useCaseOutboxes(translator);
const { closeAfter, outbox } = cases;
/** Where the redirects point: it takes anything, so whatever reaches it shows. */
let elsewhere: HttpReceiver;

beforeEach(async () => {
  elsewhere = await httpReceiver((_, res) => json(res, 201, { ticketId: 'STOLEN-1', result: { sys_id: 'stolen', number: 'STOLEN-1' } }));
  closeAfter(() => elsewhere.stop());
});

/** A server that answers every request with `status` and a Location on the other server. */
async function redirector(status: number): Promise<HttpReceiver> {
  const server = await httpReceiver((req, res) => {
    res.writeHead(status, { location: `${elsewhere.url}${req.url}` });
    res.end();
  });
  closeAfter(() => server.stop());
  return server;
}

describe('webhook backend', () => {
  it.each([301, 302, 303, 307, 308])('does not follow a %i: the other server gets nothing, the case waits for a retry with the reason', async (status) => {
    const receiver = await redirector(status);
    const seeded = await seedCase(cases.store);

    const result = await outbox(createWebhookBackend({ url: `${receiver.url}/cases`, secret: 'the-webhook-secret-value' })).runOnce();

    expect(result).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    expect(receiver.requests).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);
    const delivery = (await cases.repo.findByReference(seeded.reference))!.delivery;
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1 });
    expect(delivery.lastError).toBe(
      `The case webhook answered HTTP ${status}, a redirect, which is not followed: set CASE_WEBHOOK_URL to the address that takes the case`,
    );
    // Where the redirect pointed is not recorded either.
    expect(delivery.lastError).not.toContain(String(elsewhere.port));
  });

  it('throws a retryable DeliveryError, so the outbox treats it like an outage and not like a refusal', async () => {
    const receiver = await redirector(307);
    const seeded = await seedCase(cases.store);
    const backend = createWebhookBackend({ url: receiver.url, secret: 'the-webhook-secret-value' });
    const error = await backend.deliver({ case: (await cases.repo.findByReference(seeded.reference))!, summary: 's' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).permanent).toBe(false);
  });

  it('delivers the waiting case once the operator points CASE_WEBHOOK_URL at the real receiver', async () => {
    const receiver = await redirector(302);
    const seeded = await seedCase(cases.store);
    await outbox(createWebhookBackend({ url: receiver.url, secret: 'the-webhook-secret-value' })).runOnce();

    const later = new Date(Date.parse(CREATED_AT) + 24 * 3600_000).toISOString();
    const result = await outbox(createWebhookBackend({ url: elsewhere.url, secret: 'the-webhook-secret-value' }), later).runOnce();

    expect(result.delivered).toBe(1);
    expect((await cases.repo.findByReference(seeded.reference))!.delivery).toMatchObject({ status: 'delivered', attempts: 2 });
  });
});

describe('servicenow backend', () => {
  it('does not follow a redirect: the Basic credentials and the case never reach the other server', async () => {
    const instance = await redirector(302);
    const seeded = await seedCase(cases.store);
    const backend = createServiceNowBackend({ instanceUrl: instance.url, table: 'incident', username: 'svc.bot', password: 's3cret' });

    const result = await outbox(backend).runOnce();

    expect(result).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    expect(instance.requests).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);
    expect((await cases.repo.findByReference(seeded.reference))!.delivery.lastError).toBe(
      'ServiceNow answered HTTP 302, a redirect, which is not followed: check SERVICENOW_INSTANCE_URL and that the instance is awake',
    );
  });
});
