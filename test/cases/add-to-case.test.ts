/**
 * Adding to an open case from the chat (issue 21), through the assembled app and the real flow,
 * with the webhook backend: "add to my case: …" is stored with the turn, confirmed in the person's
 * language and pushed once (signed, its id as the idempotency key), retried while the receiver is
 * away, and refused for anyone but the person who opened the case; while the case waits for the
 * customer, a plain message (with files) is an addition too.
 */
import { describe, expect, it, vi } from 'vitest';
import { parseAddition } from '../../src/cases/add-intent';
import { signBody } from '../../src/cases/backends/webhook';
import { createTranslator } from '../../src/i18n';
import { captureLogs } from '../support';
import type { Received } from './helpers';
import { said, sender, walkToCase } from './walk';
import { useWebhookApp } from './webhook-app';

const SECRET = 'add-to-case-secret-0123456789';
const t = createTranslator();
/** How the receiver answers additions: a status per arrival (the rest 200); cases are always taken. */
let additionAnswers: number[] = [];
const env = useWebhookApp(SECRET, 'cases-add-', (req: Received) => {
  const type = (JSON.parse(req.body) as { type: string }).type;
  return type === 'case.addition' ? (additionAnswers.shift() ?? 200) : 201;
});
const wait = { timeout: 10_000, interval: 50 };
const FAST = { CASE_DELIVERY_RETRY_SECONDS: '0.05', CASE_DELIVERY_MAX_DELAY_SECONDS: '0.1' };

const additionsReceived = () =>
  env.receiver.receiver.requests.filter((r) => (JSON.parse(r.body) as { type: string }).type === 'case.addition');

async function openedAndDelivered(locale: 'en' | 'uk', extra: Record<string, string> = {}, logger?: ReturnType<typeof captureLogs>['logger']) {
  additionAnswers = [];
  const app = await env.start({ ...FAST, ...extra }, logger);
  const { url } = await app.listen(0, '127.0.0.1');
  const send = sender(app, 'msteams', `conv-${locale}`, { id: `aad-${locale}`, name: 'Iryna' }, locale === 'en' ? 'en-US' : 'uk-UA');
  const reference = await walkToCase(send);
  await vi.waitFor(async () => expect((await app.cases.repository.findByReference(reference))!.delivery.status).toBe('delivered'), wait);
  return { app, url, send, reference };
}

describe('"add to my case: …"', () => {
  it('reads the ways people say it, in both languages', () => {
    expect(parseAddition('add to my case: the order was placed on 3 May')).toEqual({ text: 'the order was placed on 3 May' });
    expect(parseAddition('Add to PCE-000123: logs\nsecond line')).toEqual({ reference: 'PCE-000123', text: 'logs\nsecond line' });
    expect(parseAddition('add to case PCE 7 - here')).toEqual({ reference: 'PCE-000007', text: 'here' });
    expect(parseAddition('додати до звернення: замовлення оформили 3 травня')).toEqual({ text: 'замовлення оформили 3 травня' });
    expect(parseAddition('Додайте до мого звернення PCE-000042 — ось знімок')).toEqual({ reference: 'PCE-000042', text: 'ось знімок' });
    expect(parseAddition('додати до PCE-000123: дякую')).toEqual({ reference: 'PCE-000123', text: 'дякую' });
    expect(parseAddition('add to my case')).toEqual({ text: '' });
    for (const not of ['status of PCE-000123', 'I want to add to the order', 'add the new address', 'додати нову адресу']) expect(parseAddition(not)).toBeUndefined();
  });

  it('is stored, confirmed, and pushed once, signed, with its id as the idempotency key', async () => {
    const logs = captureLogs('debug');
    const { app, send, reference } = await openedAndDelivered('en', {}, logs.logger);
    const r = await send({ text: 'add to my case: the order was placed on 3 May by olena@customer.example' });
    expect(said(r)).toContain(t.t('en', 'cases:add.confirmed', { reference }));

    await vi.waitFor(async () => expect((await app.cases.additions.forCase(reference))[0]?.status).toBe('delivered'), wait);
    const [addition] = await app.cases.additions.forCase(reference);
    expect(addition).toMatchObject({ text: 'the order was placed on 3 May by olena@customer.example', attempts: 1, addedBy: 'msteams:aad-en', backend: 'webhook' });
    const pushed = additionsReceived();
    expect(pushed).toHaveLength(1);
    expect(JSON.parse(pushed[0]!.body)).toEqual({ type: 'case.addition', reference, additionId: addition!.id, text: addition!.text });
    expect(pushed[0]!.headers['idempotency-key']).toBe(addition!.id);
    expect(pushed[0]!.headers['x-signature-256']).toBe(signBody(pushed[0]!.body, SECRET));
    // Passes of the worker later: not pushed again. What was added is never logged.
    await new Promise((res) => setTimeout(res, 300));
    expect(additionsReceived()).toHaveLength(1);
    expect(logs.text()).toContain('case addition pushed');
    expect(logs.text()).not.toContain('placed on 3 May');
  });

  it('in Ukrainian: confirmed in Ukrainian; asked what to add when nothing follows', async () => {
    const { send, reference } = await openedAndDelivered('uk');
    expect(said(await send({ text: 'додати до звернення' }))).toContain(t.t('uk', 'cases:add.empty', { reference }));
    expect(said(await send({ text: 'додати до звернення: замовлення оформили 3 травня' }))).toContain(`Додано до звернення ${reference}: передаю інженерові підтримки.`);
    await vi.waitFor(() => expect(additionsReceived()).toHaveLength(1), wait);
    expect((JSON.parse(additionsReceived()[0]!.body) as { text: string }).text).toBe('замовлення оформили 3 травня');
  });

  it('is retried while the receiver is away, and reaches it once', async () => {
    const { app, send, reference } = await openedAndDelivered('en');
    additionAnswers = [503, 503];
    await send({ text: `add to ${reference}: second try` });
    await vi.waitFor(async () => expect((await app.cases.additions.forCase(reference))[0]).toMatchObject({ status: 'delivered', attempts: 3 }), wait);
    expect(additionsReceived()).toHaveLength(3);
    expect(env.receiver.accepted.size).toBe(2); // the case and the addition, each once
  });

  it('is refused, as "not found", to someone who did not open the case; nothing is stored', async () => {
    const { app, reference } = await openedAndDelivered('en');
    const stranger = sender(app, 'msteams', 'conv-stranger', { id: 'aad-stranger' }, 'en-US');
    expect(said(await stranger({ text: `add to ${reference}: let me in` }))).toContain(t.t('en', 'cases:status.notFound', { reference }));
    // In the same conversation (a group chat), another person's "my case" is not theirs either.
    const other = sender(app, 'msteams', 'conv-en', { id: 'aad-colleague' }, 'en-US');
    expect(said(await other({ text: 'add to my case: me too' }))).toContain(t.t('en', 'cases:add.noOpenCase'));
    expect(await app.cases.additions.forCase(reference)).toEqual([]);
  });

  it('while the case waits for the customer: a plain message with files is an addition; once closed, none is taken', async () => {
    const { app, url, send, reference } = await openedAndDelivered('en');
    const event = (eventId: string, status: string) => {
      const body = JSON.stringify({ eventId, reference, status, message: 'Please send the screenshot.' });
      return fetch(`${url}/api/cases/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature-256': signBody(body, SECRET) }, body });
    };
    expect((await event('evt-1', 'waiting_for_customer')).status).toBe(200);
    const file = { name: 'ccw.png', contentType: 'image/png', url: 'https://files.example/ccw.png' };
    const r = await send({ text: 'Here it is.', attachments: [file] });
    expect(said(r)).toContain(t.t('en', 'cases:add.confirmedWithFiles', { reference, count: 1 }));
    await vi.waitFor(() => expect(additionsReceived()).toHaveLength(1), wait);
    expect(JSON.parse(additionsReceived()[0]!.body)).toMatchObject({ text: 'Here it is.', attachments: [file] });
    // A file with no words at all is an addition too.
    const second = { name: 'order.pdf', contentType: 'application/pdf', url: 'https://files.example/order.pdf' };
    expect(said(await send({ attachments: [second] }))).toContain(t.t('en', 'cases:add.confirmedWithFiles', { reference, count: 1 }));
    await vi.waitFor(() => expect(additionsReceived()).toHaveLength(2), wait);
    expect(JSON.parse(additionsReceived()[1]!.body)).toMatchObject({ attachments: [second] });

    expect((await event('evt-2', 'closed')).status).toBe(200);
    const after = await send({ text: 'Thanks!' });
    expect(said(after)).not.toContain(t.t('en', 'cases:add.confirmed', { reference }));
    for (const text of ['add to my case: one more thing', `add to ${reference}: one more thing`]) {
      expect(said(await send({ text }))).toContain(t.t('en', 'cases:add.closed', { reference }));
    }
    expect(await app.cases.additions.forCase(reference)).toHaveLength(2);
  });

  it('is pushed after a restart when the app stopped before it could push', async () => {
    const { app, send, reference } = await openedAndDelivered('en');
    await app.cases.additionsOutbox!.stop();
    await send({ text: 'add to my case: kept across a restart' });
    expect(await app.cases.additions.countByStatus('pending')).toBe(1);
    await env.close();

    const next = await env.start(FAST);
    await next.listen(0, '127.0.0.1');
    await vi.waitFor(async () => expect(await next.cases.additions.countByStatus('delivered')).toBe(1), wait);
    expect(additionsReceived().map((r) => (JSON.parse(r.body) as { text: string }).text)).toEqual(['kept across a restart']);
    expect((await next.cases.additions.forCase(reference))[0]!.attempts).toBe(1);
  });
});
