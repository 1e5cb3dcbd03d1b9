/**
 * Issue 15, item 3, for Webex over real HTTP (signed notifications from the fake Webex), on SQLite
 * and on PostgreSQL: a notification with a control character in an id (a NUL byte, which PostgreSQL
 * cannot store) is refused 400 before anything is kept or asked of Webex; a message whose text holds
 * a NUL byte is answered as without it, and stored without it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../../src/storage/index';
import type { FakeWebex } from './fake-webex';
import { dropPostgresSchema, TEST_DATABASE_URL, uniqueName } from '../../support';
import { useFakeWebex, type RunningBot } from './harness';

let fake: FakeWebex;
const webex = useFakeWebex((f) => (fake = f));
const schemas: string[] = [];

afterAll(async () => {
  for (const schema of schemas) await dropPostgresSchema(schema);
});

describe.each(['SQLite', 'PostgreSQL'] as const)('Webex notifications on %s', (dialect) => {
  async function bot(): Promise<RunningBot> {
    const schema = uniqueName('webex_control');
    if (dialect === 'PostgreSQL') schemas.push(schema);
    const b = await webex.start(dialect === 'PostgreSQL' ? { databaseUrl: TEST_DATABASE_URL, databaseSchema: schema } : {}, webex.tmp.join(`${schema}.sqlite`));
    // The bot asks Webex who it is at start; wait for that, so it is not taken for a reaction to the test's notification.
    await b.channel.start();
    await b.settle();
    return b;
  }

  it.each([
    ['a NUL byte in the message id', { id: 'Y2lzY29zcGFyazovL3VzL01FU1NBR0UvMQ\u0000' }],
    ['a NUL byte in the room id', { roomId: 'Y2lzY29zcGFyazovL3VzL1JPT00vMQ\u0000' }],
    ['a line break in the person id', { personId: 'Y2lzY29zcGFyazovL3VzL1BFT1BMRS8x\n' }],
  ])('is refused 400 with %s: nothing kept, nothing asked of Webex, no turn', async (_what, poisoned) => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Olena Partner', 'olena@example.com');
    const requestsBefore = fake.requests.length;
    const data = { id: 'Y2lzY29zcGFyazovL3VzL01FU1NBR0UvMg', roomId: room.id, roomType: room.type, personId: person.id, personEmail: person.email, created: new Date().toISOString(), ...poisoned };

    const deliveries = await fake.notify('messages', data);
    await b.settle();

    expect(deliveries.map((d) => d.status)).toEqual([400]);
    // A fresh database for each bot: its inbox is empty.
    const kept = await (b.app.store as SqlStore).db.withTables<{ webex_inbox: { notification_id: string } }>().selectFrom('webex_inbox').select('notification_id').execute();
    expect(kept).toEqual([]);
    expect(fake.requests.slice(requestsBefore)).toEqual([]);
    expect(b.inbounds).toEqual([]);
  });

  it('answers a message with a NUL byte in its text, stored without it', async () => {
    const b = await bot();
    const room = fake.room('direct');
    const person = fake.person('Olena Partner', 'olena@example.com');
    const { deliveries } = await fake.userSays(room, person, 'my email\u0000 never arrived');
    await b.settle();

    expect(deliveries.map((d) => d.status)).toEqual([200]);
    expect(b.results.at(-1)?.messages.length).toBeGreaterThan(0);
    expect(fake.visible(room.id).length).toBeGreaterThan(0);
    const transcript = await b.app.store.loadTranscript(`webex:${room.id}`);
    expect(transcript[0]).toMatchObject({ from: 'user', text: 'my email never arrived' });
  });
});
