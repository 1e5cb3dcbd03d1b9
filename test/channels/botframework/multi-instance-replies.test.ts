/**
 * Issue 15, item 1, on PostgreSQL: two bot processes (as `npm start` runs them) on one schema. A reply
 * that instance A committed but the connector never took (the post hangs) when A is killed with
 * SIGKILL is sent by instance B once A's claim has expired, and only then; it arrives once, and a
 * re-delivery of the activity to B sends nothing again. Synchronised on events, not sleeps.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDir, TEST_DATABASE_URL, uniqueName, useBotProcesses, waitFor, type BotProcess } from '../../support';
import { Person, useFakeConnector } from './harness';

const LEASE_SECONDS = 2;
const schema = uniqueName('replies_instances');
const connector = useFakeConnector();
const bots = useBotProcesses();
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
});
afterAll(async () => {
  await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});

/** A bot process on the shared schema, in a directory of its own. */
function startInstance(): BotProcess {
  return bots.start(testDir('pce-instance-').path, {
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_SIZE: '3',
    WEBCHAT_ENABLED: 'false',
    REPLY_DELIVERY_LEASE_SECONDS: String(LEASE_SECONDS),
    REPLY_DELIVERY_POLL_SECONDS: '0.2',
  });
}

async function keptRows(key: string): Promise<{ turn: number; state: string; claimed_by: string | null }[]> {
  const { rows } = await admin.query(`select turn, state, claimed_by from "${schema}".bot_replies where conversation_key = $1 order by turn`, [key]);
  return rows as { turn: number; state: string; claimed_by: string | null }[];
}

describe('two bot processes on one PostgreSQL database', { timeout: 120_000 }, () => {
  it('the other instance sends the replies a killed instance committed, after its claim expired, once', async () => {
    const a = startInstance();
    const b = startInstance();
    const [urlA, urlB] = await Promise.all([a.listening, b.listening]);
    const person = new Person(urlA, { channelId: 'msteams', locale: 'en-US', connector });
    connector.hold = (conversationId, activity) => conversationId === person.conversationId && activity.type === 'message';
    const activity = person.activity({ text: 'hello' });

    const answer = fetch(`${urlA}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) }).then(
      (res) => res.status,
      () => 'no response',
    );
    await waitFor(() => connector.held.some((h) => h.conversationId === person.conversationId), 'instance A to send the reply');
    const committedBy = Date.now();
    expect((await keptRows(person.key)).map((r) => r.state)).toEqual(['pending']);
    await a.kill('SIGKILL');
    expect(await answer).toBe('no response');
    connector.hold = undefined;

    await waitFor(async () => (await keptRows(person.key))[0]?.state === 'sent', 'instance B to send the kept reply', 60_000);
    // Messages only: under load instance A may have shown "typing…" before its reply was held.
    const sent = connector.messagesTo(person.conversationId);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.inReplyTo).toBe(activity.id);
    // Not before A's claim (taken at the commit, just before the held post) had expired.
    expect(sent[0]!.at! - committedBy).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 250);

    person.reconnect(urlB);
    const again = await person.post(activity);
    expect(again.status).toBe(200);
    expect(again.replies).toEqual([]);
    expect(connector.messagesTo(person.conversationId)).toHaveLength(1);
    expect(await keptRows(person.key)).toEqual([{ turn: 1, state: 'sent', claimed_by: null }]);
  });

  it('answers an activity re-delivered under expectReplies with the same replies from either instance', async () => {
    const a = startInstance();
    const b = startInstance();
    const [urlA, urlB] = await Promise.all([a.listening, b.listening]);
    const person = new Person(urlA, { channelId: 'emulator', locale: 'en-US' });
    await person.join();
    const first = await person.say(person.last.choices[0]!.value!);

    person.reconnect(urlB);
    const again = await person.post(first.sent);

    expect(again.replies.map((r) => [r.text, r.choices])).toEqual(first.replies.map((r) => [r.text, r.choices]));
    const { rows } = await admin.query(`select turn from "${schema}".conversations where key = $1`, [person.key]);
    expect(rows[0].turn).toBe(2);
  });
});
