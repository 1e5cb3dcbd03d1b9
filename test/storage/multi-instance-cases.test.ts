/**
 * Issue 8: a case confirmed through one bot server while both servers run the delivery outbox on the
 * same PostgreSQL schema reaches the case system exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createApplication, type Application } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { createStore } from '../../src/storage/index';
import { webhookReceiver } from '../cases/helpers';
import { Person } from '../channels/botframework/harness';
import { TEST_DATABASE_URL, uniqueName } from './harness';

const SECRET = 'multi-instance-webhook-secret';
const schema = uniqueName('multi_cases');
const logger = createLogger('silent');
let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
let admin: pg.Client;
const servers: { application: Application; url: string }[] = [];

async function startServer(name: string) {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_SIZE: '4',
    WEBCHAT_ENABLED: 'false',
    CASE_BACKEND: 'webhook',
    CASE_WEBHOOK_URL: `${receiver.receiver.url}/cases`,
    CASE_WEBHOOK_SECRET: SECRET,
    CASE_DELIVERY_POLL_SECONDS: '0.05',
  });
  const store = createStore(config, logger, { applicationName: `${schema}_${name}` });
  const application = await createApplication(config, { logger, store, processMetrics: false });
  const { url } = await application.listen(0, '127.0.0.1');
  return { application, url };
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  receiver = await webhookReceiver(SECRET);
  servers.push(...(await Promise.all([startServer('a'), startServer('b')])));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.application.close(5_000)));
  await receiver.receiver.stop();
  await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});

describe('a support case with two bot servers on one PostgreSQL database', () => {
  it('is delivered once although both servers run the outbox, with turns alternating between them', async () => {
    const [a, b] = servers;
    const person = new Person(a!.url, { channelId: 'msteams', locale: 'en-US' });
    let turn = 0;
    const via = () => person.reconnect((turn++ % 2 === 0 ? a : b)!.url);

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
    person.reconnect(a!.url);
    const confirmed = await person.choose('confirm');
    const reference = /PCE-\d{6}/.exec(confirmed.replies.map((r) => r.text).join(' '))?.[0];
    expect(reference, 'the person is given the case reference').toBeDefined();

    const deadline = Date.now() + 10_000;
    let rows: { status: string }[] = [];
    while (Date.now() < deadline) {
      ({ rows } = await admin.query(`select * from "${schema}".cases where reference = $1`, [reference]));
      if (rows[0]?.status === 'delivered') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('delivered');
    // Let both workers poll a few more times: nothing is sent again.
    await new Promise((r) => setTimeout(r, 400));
    const posts = receiver.receiver.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.headers['idempotency-key']).toBe(reference);
  });
});
