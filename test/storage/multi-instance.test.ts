/**
 * Issue 8: two bot servers (the whole application, over real HTTP) on one PostgreSQL schema, as two
 * instances behind a load balancer would run. Activities are posted as the Bot Framework Emulator
 * does, with `deliveryMode: expectReplies`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTranslator } from '../../src/i18n';
import { Person, storedView, type Exchange } from '../channels/botframework/harness';
import { startInstance, TEST_DATABASE_URL, uniqueName, type Instance } from '../support';

const t = createTranslator();
const schema = uniqueName('multi_instance');

let a: Instance;
let b: Instance;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  // Both start at once on an empty schema: migrations must run once, not collide.
  [a, b] = await Promise.all([startInstance(schema, 'a'), startInstance(schema, 'b')]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});

/** The first suggested action of the latest reply, typed back as the Emulator does. */
function firstOffered(person: Person): string {
  const choice = person.last.choices[0];
  expect(choice, 'the bot offers an answer').toBeDefined();
  return choice!.value ?? choice!.label;
}

function apology(exchange: Exchange): boolean {
  return exchange.replies.some((r) => r.text.includes(t.t('en', 'botframework:error.apology')));
}

describe('two bot servers on one PostgreSQL database', () => {
  it('migrated the shared schema once although both started together', async () => {
    const { rows } = await admin.query<{ name: string }>(`select name from "${schema}".kysely_migration order by name`);
    expect(rows.map((r) => r.name)).toContain('0001-initial');
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });

  it('keeps a conversation whole when its turns alternate between the servers', async () => {
    const person = new Person(a.url, { channelId: 'emulator', locale: 'en-US' });
    const greeting = await person.join();
    expect(greeting.replies.length).toBeGreaterThan(0);
    const said: string[] = [];
    let posts = 1;
    for (let i = 0; i < 5 && person.last.choices.length > 0; i++) {
      person.reconnect(i % 2 === 0 ? b.url : a.url);
      const answer = firstOffered(person);
      const before = await storedView(a.app, person.key);
      const exchange = await person.say(answer);
      posts++;
      said.push(answer);
      expect(exchange.status).toBe(200);
      expect(apology(exchange)).toBe(false);
      // The other server sees the step this one moved to.
      const after = await storedView(i % 2 === 0 ? a.app : b.app, person.key);
      expect(after.step).not.toBe(before.step);
    }
    expect(said.length).toBeGreaterThanOrEqual(2);
    const record = await b.app.store.loadConversation(person.key);
    expect(record?.turn).toBe(posts);
    const transcript = await a.app.store.loadTranscript(person.key);
    expect(transcript.filter((e) => e.from === 'user').map((e) => e.text)).toEqual(said);
    expect(transcript.filter((e) => e.from === 'bot')).toHaveLength(posts);
  });

  it('serialises concurrent posts of one conversation to both servers: every message is one whole turn', async () => {
    const person = new Person(a.url, { channelId: 'emulator', locale: 'en-US' });
    await person.join();
    const texts = Array.from({ length: 8 }, (_, i) => `message number ${i + 1}`);
    const exchanges = await Promise.all(
      texts.map((text, i) =>
        fetch(`${i % 2 === 0 ? a.url : b.url}/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(person.activity({ text })),
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as { activities?: { text?: string }[] } })),
      ),
    );
    for (const e of exchanges) {
      expect(e.status).toBe(200);
      expect(e.body.activities?.length).toBeGreaterThan(0);
      expect(e.body.activities?.some((x) => x.text?.includes(t.t('en', 'botframework:error.apology')))).toBe(false);
    }
    const record = await a.app.store.loadConversation(person.key);
    expect(record?.turn).toBe(1 + texts.length);
    const userLines = (await b.app.store.loadTranscript(person.key)).filter((e) => e.from === 'user').map((e) => e.text);
    expect([...userLines].sort()).toEqual([...texts].sort());
  });

  it('runs an activity delivered to both servers once, and both answer it with the same replies (issue 15)', async () => {
    const person = new Person(a.url, { channelId: 'emulator', locale: 'en-US' });
    await person.join();
    const activity = person.activity({ text: firstOffered(person) });
    const [viaA, viaB] = await Promise.all([person.post(activity), new Person(b.url, { channelId: 'emulator' }).post(activity)]);
    expect(viaA.replies.length).toBeGreaterThan(0);
    expect(viaB.replies.map((r) => r.text)).toEqual(viaA.replies.map((r) => r.text));
    expect((await a.app.store.loadConversation(person.key))?.turn).toBe(2);
  });

  it('loses nothing acknowledged when the database drops every connection mid-conversation, and carries on', async () => {
    const person = new Person(a.url, { channelId: 'emulator', locale: 'en-US' });
    await person.join();
    await person.say(firstOffered(person));
    const acknowledged = await storedView(a.app, person.key);
    const turn = (await a.app.store.loadConversation(person.key))?.turn;

    const { rows } = await admin.query<{ terminated: boolean }>(
      'select pg_terminate_backend(pid) as terminated from pg_stat_activity where application_name in ($1, $2)',
      [a.applicationName, b.applicationName],
    );
    expect(rows.filter((r) => r.terminated).length).toBeGreaterThan(0);

    expect((await storedView(b.app, person.key)).step).toBe(acknowledged.step);
    person.reconnect(b.url);
    const next = await person.say(firstOffered(person));
    expect(next.status).toBe(200);
    expect(apology(next)).toBe(false);
    expect((await a.app.store.loadConversation(person.key))?.turn).toBe((turn ?? 0) + 1);
  });

  it('answers politely, without hanging, when the database cannot serve a turn in time, and the next turn works', async () => {
    const impatient = await startInstance(schema, 'c', {}, { statementTimeoutMs: 400 });
    try {
      const person = new Person(impatient.url, { channelId: 'emulator', locale: 'en-US' });
      await person.join();
      const where = await storedView(a.app, person.key);
      const answer = firstOffered(person);
      // The database cannot serve the turn in time: the conversation's row is locked by a stuck
      // transaction elsewhere, so the commit waits past this instance's statement timeout.
      const stuck = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await stuck.connect();
      await stuck.query('begin');
      await stuck.query(`select 1 from ${schema}.conversations where key = $1 for update`, [person.key]);
      const failed = await person.say(answer);
      await stuck.query('rollback');
      await stuck.end();

      expect(failed.status).toBe(200);
      expect(apology(failed)).toBe(true);
      expect((await storedView(a.app, person.key)).step).toBe(where.step);
      const retried = await person.say(answer);
      expect(apology(retried)).toBe(false);
      expect((await storedView(b.app, person.key)).step).not.toBe(where.step);
    } finally {
      await impatient.stop();
    }
  });
});
