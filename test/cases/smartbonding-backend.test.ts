/**
 * The Smart Bonding backend against a loopback Smart Bonding (test/support/fake-smartbonding.ts):
 * the documented create message, the OAuth2 token cached and renewed (before it expires, and once
 * on a 401), and the failure rules: 401 twice is a configuration problem (retried), 429 waits for
 * its Retry-After, 5xx is retried, another 4xx fails the case.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createCaseBackend, createSmartBondingBackend } from '../../src/cases/backends/index';
import { buildCaseSummary } from '../../src/cases/summary';
import { loadConfig } from '../../src/config';
import { fixtureTranslator } from '../dialogs/support-case/fixture-entry';
import { FakeSmartBonding, startFakeSmartBonding } from '../support/fake-smartbonding';
import { useCaseOutboxes } from './backends/harness';
import { CREATED_AT, seedCase } from './helpers';

const translator = fixtureTranslator();
const cases = useCaseOutboxes(translator);
let sb: FakeSmartBonding;

beforeEach(async () => {
  sb = await startFakeSmartBonding();
  cases.closeAfter(() => sb.stop());
});

const backend = (o: { secret?: string; clock?: () => Date } = {}) =>
  createSmartBondingBackend({ apiUrl: sb.apiUrl, tokenUrl: sb.tokenUrl, clientId: sb.clientId, clientSecret: o.secret ?? sb.clientSecret, clock: o.clock });

async function seeded(overrides: Parameters<typeof seedCase>[1] = {}) {
  const s = await seedCase(cases.store, { delivery: { backend: 'smartbonding', status: 'pending', attempts: 0, nextAttemptAt: CREATED_AT }, ...overrides });
  return (await cases.repo.findByReference(s.reference))!;
}

describe('smartbonding backend: the case', () => {
  it('creates the call with the documented Calls fields: our reference, the English summary, the trail, the contact and the subscription', async () => {
    const record = await seeded({ openedBy: { kind: 'person', userKey: 'webex:u1', name: 'Оксана Коваль', email: 'oksana@partner.example' } });
    expect((await cases.outbox(backend()).runOnce()).delivered).toBe(1);

    const call = sb.calls.get(record.reference)!;
    expect(call.created).toEqual({
      Calls: {
        CustCallID: record.reference,
        ShortDescription: `Change Provisioning Contact Email: order 104857391, subscription Sub123456 (${record.reference})`,
        Description: buildCaseSummary(record, translator, { transcript: true }),
        Remarks: 'Decision trail:\n1. orderLineStatus: awaiting\n2. describe: "поле не зберігається"',
        CCP: { FirstName: 'Оксана', LastName: 'Коваль', EMail: 'oksana@partner.example' },
        MainComp: { InvNr: 'Sub123456' },
      },
      CallStates: { ShortName: 'New' },
      Priorities: { ShortName: 'Escalated' },
    });
    // The summary names the screenshot by its link: the partner API has no attachment method.
    expect((call.created.Calls as { Description: string }).Description).toContain('error.png (image/png, 1024 bytes) https://files.example/error.png');
    const push = sb.requests.find((r) => r.path.endsWith('/push/call'))!;
    expect(push.authorization).toBe('Bearer tok-1');
    expect((await cases.repo.findByReference(record.reference))!.delivery.status).toBe('delivered');
  });

  it('fetches the token with the client credentials as a form, once for several calls', async () => {
    await seeded();
    await seeded();
    expect((await cases.outbox(backend()).runOnce()).delivered).toBe(2);
    expect(sb.tokensIssued).toBe(1);
    const form = new URLSearchParams(sb.requests.find((r) => r.path.endsWith('/token'))!.body);
    expect(Object.fromEntries(form)).toEqual({ grant_type: 'client_credentials', client_id: sb.clientId, client_secret: sb.clientSecret });
  });

  it('renews the token before its hour is up, not after', async () => {
    let now = new Date(CREATED_AT).getTime();
    const b = backend({ clock: () => new Date(now) });
    const first = await seeded();
    await b.deliver({ case: first, summary: 's' });
    now += 50 * 60_000;
    await b.deliver({ case: first, summary: 's' });
    expect(sb.tokensIssued).toBe(1);
    // 55 minutes in: within five minutes of the token's end, a new one goes with the next call.
    now += 5 * 60_000;
    await b.deliver({ case: first, summary: 's' });
    expect(sb.tokensIssued).toBe(2);
    expect(sb.requests.filter((r) => r.path.endsWith('/push/call')).map((r) => r.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
  });

  it('renews the token once when Smart Bonding answers 401, and delivers', async () => {
    const record = await seeded();
    const b = backend();
    expect(await b.check!()).toEqual([]);
    sb.revokeTokens();
    expect((await cases.outbox(b).runOnce()).delivered).toBe(1);
    expect(sb.tokensIssued).toBe(2);
    expect(sb.calls.has(record.reference)).toBe(true);
  });

  it('keeps the case pending when a fresh token is refused too: a configuration problem, not the case', async () => {
    const record = await seeded();
    sb.fail('push', { status: 401 }, { status: 401 });
    expect((await cases.outbox(backend()).runOnce()).retrying).toBe(1);
    const delivery = (await cases.repo.findByReference(record.reference))!.delivery;
    expect(delivery.status).toBe('pending');
    expect(delivery.lastError).toMatch(/^Smart Bonding refused a freshly issued token as well \(HTTP 401\): check that SMARTBONDING_CLIENT_ID/);
    expect(sb.tokensIssued).toBe(2);
  });

  it('keeps the case pending when the token endpoint refuses the credentials, and the check says what to fix', async () => {
    const record = await seeded();
    const b = backend({ secret: 'wrong-secret' });
    expect((await cases.outbox(b).runOnce()).retrying).toBe(1);
    const delivery = (await cases.repo.findByReference(record.reference))!.delivery;
    expect(delivery.status).toBe('pending');
    expect(delivery.lastError).toBe(
      'The Smart Bonding token endpoint answered HTTP 401; check SMARTBONDING_CLIENT_ID, SMARTBONDING_CLIENT_SECRET and SMARTBONDING_TOKEN_URL, then `npm run cases -- check`',
    );
    expect(await b.check!()).toEqual([delivery.lastError]);
    expect(delivery.lastError).not.toContain('wrong-secret');
    expect(sb.count('push')).toBe(0);
  });

  it('waits for the Retry-After of a 429, retries a 5xx, and delivers once Smart Bonding takes it', async () => {
    const record = await seeded();
    sb.fail('push', { status: 429, headers: { 'retry-after': '600' } }, { status: 503 });
    const o = cases.outbox(backend());
    expect((await o.runOnce()).retrying).toBe(1);
    let delivery = (await cases.repo.findByReference(record.reference))!.delivery;
    expect(delivery.lastError).toBe('Smart Bonding answered HTTP 429');
    expect(new Date(delivery.nextAttemptAt!).getTime() - new Date(CREATED_AT).getTime()).toBeGreaterThanOrEqual(600_000);

    const later = cases.outbox(backend(), new Date(new Date(CREATED_AT).getTime() + 600_000).toISOString());
    expect((await later.runOnce()).retrying).toBe(1);
    delivery = (await cases.repo.findByReference(record.reference))!.delivery;
    expect(delivery).toMatchObject({ status: 'pending', lastError: 'Smart Bonding answered HTTP 503' });

    const after = cases.outbox(backend(), new Date(new Date(CREATED_AT).getTime() + 3_600_000).toISOString());
    expect((await after.runOnce()).delivered).toBe(1);
    expect(sb.calls.size).toBe(1);
  });

  it('fails the case on a definite refusal (400)', async () => {
    const record = await seeded();
    sb.fail('push', { status: 400, body: '{"message":"CustCallID invalid"}' });
    expect((await cases.outbox(backend()).runOnce()).failed).toBe(1);
    expect((await cases.repo.findByReference(record.reference))!.delivery).toMatchObject({ status: 'failed', lastError: 'Smart Bonding answered HTTP 400' });
  });

  it('is what CASE_BACKEND=smartbonding builds, and its settings are required', () => {
    expect(() => loadConfig({ CASE_BACKEND: 'smartbonding' })).toThrow(/SMARTBONDING_CLIENT_ID: is required when CASE_BACKEND=smartbonding[\s\S]*SMARTBONDING_CLIENT_SECRET: is required/);
    const config = loadConfig({ CASE_BACKEND: 'smartbonding', SMARTBONDING_CLIENT_ID: 'id', SMARTBONDING_CLIENT_SECRET: 'secret' });
    expect(config.SMARTBONDING_API_URL).toBe('https://sb.xylem.cisco.com/sb-partner-oauth-proxy-api/rest/v1');
    expect(config.SMARTBONDING_TOKEN_URL).toBe('https://id.cisco.com/oauth2/default/v1/token');
    expect(createCaseBackend(config, translator)?.name).toBe('smartbonding');
  });
});
