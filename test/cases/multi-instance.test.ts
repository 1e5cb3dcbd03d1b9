/**
 * Issue 8 and issue 15 (item 7): a support case with two bot servers running the delivery outbox
 * on the same PostgreSQL schema reaches the case system exactly once. Nothing here sleeps: the
 * tests wait for events (a request reaching the receiver, a worker completing a pass) and hold the
 * receiver's answer open to make a worker's claim last as long as the test needs.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { CaseOutbox, PassCounts } from '../../src/cases/outbox';
import type { SqlStore } from '../../src/storage/index';
import { Person } from '../channels/botframework/harness';
import { deferred, type Deferred } from '../storage/harness';
import { startInstance, TEST_DATABASE_URL, uniqueName, type Instance } from '../support';
import { seedCase, webhookReceiver, type Received, type WebhookAnswer } from './helpers';

const SECRET = 'multi-instance-webhook-secret';
let admin: pg.Client;
let receiver: Awaited<ReturnType<typeof webhookReceiver>> | undefined;
let servers: (Instance & { outbox: CaseOutbox })[] = [];
const schemas: string[] = [];
/** Answers still held open; released before the servers stop, so no worker waits for a time-out. */
const gates: Deferred[] = [];

async function startServers(extra: Record<string, string> = {}) {
  const schema = uniqueName('multi_cases');
  schemas.push(schema);
  const start = async (name: string) => {
    const instance = await startInstance(schema, name, {
      CASE_BACKEND: 'webhook',
      CASE_WEBHOOK_URL: `${receiver!.receiver.url}/cases`,
      CASE_WEBHOOK_SECRET: SECRET,
      CASE_DELIVERY_POLL_SECONDS: '0.05',
      ...extra,
    });
    return { ...instance, outbox: instance.app.cases!.outbox! };
  };
  servers = await Promise.all([start('a'), start('b')]);
  return { schema, a: servers[0]!, b: servers[1]! };
}

/** A receiver whose first POST is answered only when the test releases it (with `first`), the rest at once. */
async function holdingReceiver(first: WebhookAnswer, rest: WebhookAnswer = 201) {
  const gate = deferred();
  gates.push(gate);
  let held = false;
  receiver = await webhookReceiver(SECRET, async (): Promise<WebhookAnswer> => {
    if (held) return rest;
    held = true;
    await gate.promise;
    return first;
  });
  return { release: gate.resolve, posts: () => receiver!.receiver.requests.filter((r: Received) => r.method === 'POST') };
}

/** Resolves when `outbox` has completed `n` more passes, counted from now (optionally: passes that did something). */
function passes(outbox: CaseOutbox, n = 1, counts: (c: PassCounts) => boolean = () => true): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const off = outbox.onPass((c) => {
      if (counts(c) && ++seen >= n) {
        off();
        resolve();
      }
    });
  });
}

async function row(schema: string, reference: string) {
  const { rows } = await admin.query(`select status, attempts, claimed_by, external_id, last_error from "${schema}".cases where reference = $1`, [reference]);
  expect(rows).toHaveLength(1);
  return rows[0] as { status: string; attempts: number; claimed_by: string | null; external_id: string | null; last_error: string | null };
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
});
afterEach(async () => {
  for (const gate of gates.splice(0)) gate.resolve();
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
  await receiver?.receiver.stop();
  receiver = undefined;
});
afterAll(async () => {
  for (const schema of schemas) await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});

describe('a support case with two bot servers on one PostgreSQL database', () => {
  it('is delivered once although both servers run the outbox, with turns alternating between them', async () => {
    const { release, posts } = await holdingReceiver(201);
    const { schema, a, b } = await startServers();
    const person = new Person(a.url, { channelId: 'msteams', locale: 'en-US' });
    let turn = 0;
    const via = () => person.reconnect((turn++ % 2 === 0 ? a : b).url);

    via();
    await person.join();
    for (const id of ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed', 'incognito', 'failed', 'cache_cookies', 'failed', 'other_browser', 'failed']) {
      via();
      expect((await person.choose(id)).status).toBe(200);
    }
    for (const text of ['104857391', 'Sub123456', 'old@customer.example', 'new@customer.example']) {
      via();
      await person.say(text);
    }
    via();
    await person.choose('attachments_done');
    // Confirm through server A while B's worker is polling too.
    person.reconnect(a.url);
    const confirmed = await person.choose('confirm');
    const reference = /PCE-\d{6}/.exec(confirmed.replies.map((r) => r.text).join(' '))?.[0];
    expect(reference, 'the person is given the case reference').toBeDefined();

    // One server is sending it now (its answer held open). The other completes two whole passes
    // meanwhile, the second begun after the claim was taken: it must not send the case too.
    await receiver!.receiver.arrived(1);
    const holder = (await row(schema, reference!)).claimed_by;
    const [sending, other] = holder === a.outbox.workerId ? [a, b] : [b, a];
    expect(sending.outbox.workerId).toBe(holder);
    await passes(other.outbox, 2);
    expect(posts()).toHaveLength(1);

    const done = passes(sending.outbox, 1, (c) => c.delivered === 1);
    release();
    await done;
    expect(await row(schema, reference!)).toMatchObject({ status: 'delivered', attempts: 1, external_id: `TCK-${reference}` });
    // Both servers poll on, each at least one whole pass after the delivery: nothing is sent again.
    await Promise.all([passes(a.outbox, 2), passes(b.outbox, 2)]);
    expect(posts()).toHaveLength(1);
    expect(posts()[0]!.headers['idempotency-key']).toBe(reference);
  });

  it('keeps the result of the server that took over an expired claim, not the late answer of the first', async () => {
    // The first POST stalls past its lease, then is rejected; the take-over's POST is accepted.
    const { release, posts } = await holdingReceiver(422, 201);
    const { schema, a, b } = await startServers({ CASE_DELIVERY_LEASE_SECONDS: '0.5' });
    // Only the server that did not stall can complete a pass with a delivery before the release.
    const tookOver = Promise.race([a, b].map((s) => passes(s.outbox, 1, (c) => c.delivered === 1)));
    const now = new Date().toISOString();
    const seeded = await seedCase(a.app.store as SqlStore, { createdAt: now, delivery: { backend: 'webhook', status: 'pending', attempts: 0, nextAttemptAt: now } });

    await receiver!.receiver.arrived(1);
    const holder = (await row(schema, seeded.reference)).claimed_by;
    const [stalled, other] = holder === a.outbox.workerId ? [a, b] : [b, a];
    // The lease runs out while the first answer is held; the other server claims the case, sends it
    // and records the delivery.
    await receiver!.receiver.arrived(2);
    await tookOver;
    expect(await row(schema, seeded.reference)).toMatchObject({ status: 'delivered', attempts: 1, external_id: `TCK-${seeded.reference}` });

    // Now the stalled server hears "422": its claim is gone, so its result must not be written.
    const late = passes(stalled.outbox, 1);
    release();
    await late;
    expect(await row(schema, seeded.reference)).toMatchObject({ status: 'delivered', attempts: 1, external_id: `TCK-${seeded.reference}`, last_error: null });
    expect(posts()).toHaveLength(2);
  });
});
