/**
 * Each delivery backend against a real local receiver: an HTTP server that checks the signature or
 * the credentials and the body, and an SMTP server on loopback. Cases come from a real SQLite store.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createCaseBackend, createEmailBackend, createServiceNowBackend, createWebhookBackend } from '../../../src/cases/backends/index';
import { buildCaseSummary } from '../../../src/cases/summary';
import { loadConfig } from '../../../src/config';
import { fixtureTranslator } from '../../dialogs/support-case/fixture-entry';
import { CREATED_AT, httpReceiver, json, mimePart, seedCase, smtpReceiver, webhookReceiver, type HttpReceiver } from '../helpers';
import { useCaseOutboxes } from './harness';

const translator = fixtureTranslator();
const cases = useCaseOutboxes(translator);
const { closeAfter, outbox } = cases;

describe('webhook backend', () => {
  it('is refused by the receiver when signed with another secret, and that refusal is permanent', async () => {
    const { receiver, accepted } = await webhookReceiver('the-receivers-own-secret');
    closeAfter(() => receiver.stop());
    const seeded = await seedCase(cases.store);
    const result = await outbox(createWebhookBackend({ url: receiver.url, secret: 'some-other-secret-value' })).runOnce();
    expect(result.failed).toBe(1);
    expect(accepted.size).toBe(0);
    expect((await cases.repo.findByReference(seeded.reference))!.delivery.lastError).toBe('The case webhook answered HTTP 401');
  });
});

describe('servicenow backend', () => {
  const auth = `Basic ${Buffer.from('svc.bot:s3cret').toString('base64')}`;
  let records: { sys_id: string; number: string; fields: Record<string, string> }[];
  let sn: HttpReceiver;

  beforeEach(async () => {
    records = [];
    // The Table API as far as the bot uses it: query by correlation_id, create a record.
    sn = await httpReceiver((req, res) => {
      if (req.headers.authorization !== auth) return json(res, 401, { error: { message: 'User Not Authenticated' } });
      const url = new URL(req.url, 'http://x');
      if (url.pathname !== '/api/now/table/sn_customerservice_case') return json(res, 404, { error: { message: 'Invalid table' } });
      if (req.method === 'GET') {
        const query = url.searchParams.get('sysparm_query') ?? '';
        const ref = /correlation_id=([^^]+)/.exec(query)?.[1];
        return json(res, 200, { result: records.filter((r) => r.fields.correlation_id === ref).map(({ sys_id, number }) => ({ sys_id, number })) });
      }
      if (req.method === 'POST' && req.headers['content-type'] === 'application/json') {
        const fields = JSON.parse(req.body) as Record<string, string>;
        const record = { sys_id: `sys${records.length + 1}`.padEnd(32, '0'), number: `CS00${1001 + records.length}`, fields };
        records.push(record);
        return json(res, 201, { result: { sys_id: record.sys_id, number: record.number } });
      }
      json(res, 400, { error: { message: 'bad request' } });
    });
    closeAfter(() => sn.stop());
  });

  const backend = (password = 's3cret') =>
    createServiceNowBackend({ instanceUrl: `${sn.url}/`, table: 'sn_customerservice_case', username: 'svc.bot', password });

  it('creates one record with the fields mapped and keeps its number as the external ticket id', async () => {
    const seeded = await seedCase(cases.store);
    expect((await outbox(backend()).runOnce()).delivered).toBe(1);
    expect(records).toHaveLength(1);
    const f = records[0]!.fields;
    expect(f.short_description).toBe(`Change Provisioning Contact Email: order 104857391, subscription Sub123456 (${seeded.reference})`);
    expect(f.correlation_id).toBe(seeded.reference);
    expect(f.correlation_display).toBe('pce-support-bot');
    expect(f.description).toContain('New Provisioning Contact Email: new@customer.example');
    expect(f.description).toContain('Conversation language: Ukrainian');
    expect((await cases.repo.findByReference(seeded.reference))!.delivery).toMatchObject({ status: 'delivered', externalId: 'CS001001' });
  });

  it('finds the record it already created instead of filing a second one', async () => {
    const seeded = await seedCase(cases.store);
    const payload = { case: (await cases.repo.findByReference(seeded.reference))!, summary: 's' };
    const first = await backend().deliver(payload);
    const again = await backend().deliver(payload);
    expect(again).toEqual(first);
    expect(records).toHaveLength(1);
  });

  it('keeps a case pending on wrong credentials, a configuration problem, and says what to fix', async () => {
    const seeded = await seedCase(cases.store);
    expect((await outbox(backend('wrong')).runOnce()).retrying).toBe(1);
    const delivery = (await cases.repo.findByReference(seeded.reference))!.delivery;
    expect(delivery.status).toBe('pending');
    expect(delivery.lastError).toBe('ServiceNow answered HTTP 401: User Not Authenticated; check SERVICENOW_USERNAME and SERVICENOW_PASSWORD, then `npm run cases -- check`');
    expect(await backend('wrong').check!()).toEqual([delivery.lastError]);
    expect(await backend().check!()).toEqual([]);
    expect(records).toHaveLength(0);
  });

  it('keeps a case pending when the user may create but not read: no record is filed blind, and the check says so', async () => {
    const createOnly = await httpReceiver((req, res) => {
      if (req.method === 'GET') return json(res, 403, { error: { message: 'Operation Failed' } });
      records.push({ sys_id: 'x'.padEnd(32, '0'), number: 'CS009999', fields: JSON.parse(req.body) as Record<string, string> });
      json(res, 201, { result: { sys_id: 'x'.padEnd(32, '0'), number: 'CS009999' } });
    });
    closeAfter(() => createOnly.stop());
    const b = createServiceNowBackend({ instanceUrl: createOnly.url, table: 'incident', username: 'svc.bot', password: 's3cret' });
    const seeded = await seedCase(cases.store);
    expect((await outbox(b).runOnce()).retrying).toBe(1);
    const delivery = (await cases.repo.findByReference(seeded.reference))!.delivery;
    expect(delivery.status).toBe('pending');
    expect(delivery.lastError).toContain('ServiceNow answered HTTP 403: Operation Failed; the integration user must be able to read the table');
    expect(records).toHaveLength(0);
    expect((await b.check!())[0]).toContain('grant read on it');
  });

  it('never creates after a look-up answer of another shape (a second record could follow)', async () => {
    for (const odd of [{ result: {} }, { records: [] }, 'not json at all', { result: [{ number: 'CS1' }] }]) {
      const strange = await httpReceiver((req, res) => {
        if (req.method === 'GET') return typeof odd === 'string' ? void res.writeHead(200, { 'content-type': 'application/json' }).end(odd) : json(res, 200, odd);
        records.push({ sys_id: 'y'.padEnd(32, '0'), number: 'CS008888', fields: {} });
        json(res, 201, { result: { sys_id: 'y'.padEnd(32, '0'), number: 'CS008888' } });
      });
      closeAfter(() => strange.stop());
      const b = createServiceNowBackend({ instanceUrl: strange.url, table: 'incident', username: 'svc.bot', password: 's3cret' });
      const seeded = await seedCase(cases.store);
      await expect(b.deliver({ case: (await cases.repo.findByReference(seeded.reference))!, summary: 's' })).rejects.toMatchObject({ permanent: false });
    }
    expect(records).toHaveLength(0);
  });

  it('sends the category and contact type configured, today\'s values by default', async () => {
    const seeded = await seedCase(cases.store);
    const payload = { case: (await cases.repo.findByReference(seeded.reference))!, summary: 's' };
    await backend().deliver(payload);
    expect(records[0]!.fields).toMatchObject({ category: 'request', contact_type: 'virtual_agent' });
    const config = loadConfig({
      CASE_BACKEND: 'servicenow',
      SERVICENOW_INSTANCE_URL: sn.url,
      SERVICENOW_TABLE: 'sn_customerservice_case',
      SERVICENOW_USERNAME: 'svc.bot',
      SERVICENOW_PASSWORD: 's3cret',
      SERVICENOW_CATEGORY: 'inquiry',
      SERVICENOW_CONTACT_TYPE: 'chat',
    });
    const seeded2 = await seedCase(cases.store);
    await createCaseBackend(config, translator)!.deliver({ case: (await cases.repo.findByReference(seeded2.reference))!, summary: 's' });
    expect(records[1]!.fields).toMatchObject({ category: 'inquiry', contact_type: 'chat' });
  });

  it('fails a case ServiceNow refuses as invalid, keeping its reason for the operator without the address it quotes', async () => {
    const refusing = await httpReceiver((req, res) =>
      req.method === 'GET'
        ? json(res, 200, { result: [] })
        : json(res, 400, { error: { message: 'Invalid value new@customer.example for field u_contact_email', detail: null }, status: 'failure' }),
    );
    closeAfter(() => refusing.stop());
    const seeded = await seedCase(cases.store);
    const o = outbox(createServiceNowBackend({ instanceUrl: refusing.url, table: 'sn_customerservice_case', username: 'svc.bot', password: 's3cret' }));
    expect((await o.runOnce()).failed).toBe(1);
    expect((await cases.repo.findByReference(seeded.reference))!.delivery).toMatchObject({
      status: 'failed',
      lastError: 'ServiceNow answered HTTP 400: Invalid value [email] for field u_contact_email',
    });
  });

  it('keeps a case pending when ServiceNow limits the rate, until the time its Retry-After names', async () => {
    const limiting = await httpReceiver((_req, res) => json(res, 429, { error: { message: 'Too many requests' } }, { 'retry-after': '90' }));
    closeAfter(() => limiting.stop());
    const seeded = await seedCase(cases.store);
    const o = outbox(createServiceNowBackend({ instanceUrl: limiting.url, table: 'sn_customerservice_case', username: 'svc.bot', password: 's3cret' }));
    expect((await o.runOnce()).retrying).toBe(1);
    const d = (await cases.repo.findByReference(seeded.reference))!.delivery;
    expect(d).toMatchObject({ status: 'pending', attempts: 1 });
    expect(Date.parse(d.nextAttemptAt!) - Date.parse(CREATED_AT)).toBe(90_000);
  });
});

describe('email backend', () => {
  it('sends the English summary in the body and the case JSON as an attachment, authenticated', async () => {
    const smtp = await smtpReceiver('bot', 'mail-pass');
    closeAfter(() => smtp.close());
    const config = loadConfig({
      CASE_BACKEND: 'email',
      CASE_SMTP_URL: `smtp://bot:mail-pass@127.0.0.1:${smtp.port}`,
      CASE_EMAIL_TO: 'support@partner.example',
      CASE_EMAIL_FROM: 'bot@partner.example',
    });
    const seeded = await seedCase(cases.store);
    expect((await outbox(createCaseBackend(config, translator)!).runOnce()).delivered).toBe(1);

    expect(smtp.messages).toHaveLength(1);
    const m = smtp.messages[0]!;
    expect(m.user).toBe('bot');
    expect(m.from).toBe('bot@partner.example');
    expect(m.to).toEqual(['support@partner.example']);
    expect(m.raw).toContain(`Subject: [${seeded.reference}] Change Provisioning Contact Email, order 104857391`);
    expect(m.raw).toContain(`Message-ID: <${seeded.reference.toLowerCase()}.case@partner.example>`);
    const attached = JSON.parse(mimePart(m.raw, `${seeded.reference}.json`) ?? 'null');
    expect(attached).toMatchObject({ reference: seeded.reference, subscriptionId: 'Sub123456', currentContactEmail: 'old@customer.example' });
    const record = (await cases.repo.findByReference(seeded.reference))!;
    expect(record.delivery.status).toBe('delivered');
    // The body starts with the same English summary the other backends send.
    const summaryTitle = buildCaseSummary(record, translator).split('\n')[0]!;
    expect(m.raw).toContain(summaryTitle);
  });

  it('records a 5xx refusal as permanent and keeps a case pending while the server is unreachable', async () => {
    const smtp = await smtpReceiver('bot', 'mail-pass', 550);
    const refusing = createEmailBackend({ smtpUrl: `smtp://bot:mail-pass@127.0.0.1:${smtp.port}`, to: 'support@partner.example', from: 'bot@partner.example', translator });
    const first = await seedCase(cases.store);
    expect((await outbox(refusing).runOnce()).failed).toBe(1);
    expect((await cases.repo.findByReference(first.reference))!.delivery.status).toBe('failed');
    await smtp.close();

    const second = await seedCase(cases.store);
    const down = createEmailBackend({ smtpUrl: `smtp://bot:mail-pass@127.0.0.1:${smtp.port}`, to: 'support@partner.example', from: 'bot@partner.example', translator });
    expect((await outbox(down).runOnce()).retrying).toBe(1);
    expect((await cases.repo.findByReference(second.reference))!.delivery).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('keeps a case pending on a temporary (4xx) SMTP refusal', async () => {
    const smtp = await smtpReceiver('bot', 'mail-pass', 451);
    closeAfter(() => smtp.close());
    const seeded = await seedCase(cases.store);
    const busy = createEmailBackend({ smtpUrl: `smtp://bot:mail-pass@127.0.0.1:${smtp.port}`, to: 'support@partner.example', from: 'bot@partner.example', translator });
    expect((await outbox(busy).runOnce()).retrying).toBe(1);
    expect((await cases.repo.findByReference(seeded.reference))!.delivery).toMatchObject({ status: 'pending', attempts: 1, lastError: 'The SMTP server refused or could not be reached (451)' });
  });
});
