/**
 * Issue 15, item 1, over real processes: the bot as `npm start` runs it (SQLite under ./data of a
 * temp directory) against the local fake connector. A reply the turn committed but the connector
 * never took (the post hangs) survives a SIGKILL, and a forced exit after SIGTERM: the next process
 * sends it, once; a re-delivery of the activity then sends nothing again, or, when the worker could
 * not send it, is what sends it. Under `expectReplies` a re-delivery after a restart gets the same
 * replies in the body. Synchronised on events (the held post, rows in the store), never on sleeps.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useBotProcesses, useTempDir, waitFor } from '../../support';
import { Person, useFakeConnector } from './harness';

const connector = useFakeConnector();
const dir = useTempDir('pce-durable-');
const bots = useBotProcesses();

/** The bot as `npm start` runs it, in the test's directory; resolves with its URL. */
function start(env: Record<string, string> = {}): Promise<string> {
  return bots.start(dir.path, { LOG_LEVEL: 'info', ...env }).listening;
}

interface Row {
  turn: number;
  state: string;
  done: number;
  attempts: number;
}

/** The conversation's kept replies, read from the bot's SQLite file (./data/bot.sqlite of its directory). */
function keptRows(key: string): Row[] {
  const db = new Database(dir.join('data', 'bot.sqlite'));
  try {
    return db.prepare('select turn, state, done, attempts from bot_replies where conversation_key = ? order by turn').all(key) as Row[];
  } finally {
    db.close();
  }
}

function storedTurn(key: string): number | undefined {
  const db = new Database(dir.join('data', 'bot.sqlite'));
  try {
    return (db.prepare('select turn from conversations where key = ?').get(key) as { turn: number } | undefined)?.turn;
  } finally {
    db.close();
  }
}

/** Posts an activity whose answer will never come (the bot is killed meanwhile). */
function postUnanswered(url: string, activity: Record<string, unknown>): Promise<number | 'no response'> {
  return fetch(`${url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) }).then(
    (res) => res.status,
    () => 'no response' as const,
  );
}

/**
 * A Teams person's first message, whose reply the connector holds unanswered; returns once the reply
 * has reached the connector (so the turn is committed) and the bot has been stopped with `signal`.
 */
async function replyCommittedThenStopped(signal: NodeJS.Signals, env: Record<string, string> = {}) {
  const url = await start(env);
  const person = new Person(url, { channelId: 'msteams', locale: 'en-US', connector });
  connector.hold = (conversationId, activity) => conversationId === person.conversationId && activity.type === 'message';
  const activity = person.activity({ text: 'hello' });
  const answer = postUnanswered(url, activity);
  await waitFor(() => connector.held.some((h) => h.conversationId === person.conversationId), 'the reply to reach the connector');
  expect(keptRows(person.key)).toEqual([{ turn: 1, state: 'pending', done: 0, attempts: 0 }]);

  await bots.killAll(signal);
  expect(await answer).toBe('no response');
  connector.hold = undefined;
  expect(connector.messagesTo(person.conversationId)).toEqual([]);
  return { person, activity };
}

describe('replies kept with their turn, over real bot processes (SQLite)', { timeout: 120_000 }, () => {
  it('a reply committed but not taken when the bot is killed (SIGKILL) is sent once by the next process; the re-delivery sends nothing again', async () => {
    const { person, activity } = await replyCommittedThenStopped('SIGKILL');

    const url = await start();
    await waitFor(() => connector.messagesTo(person.conversationId).length > 0, 'the restarted bot to send the kept reply');
    await waitFor(() => keptRows(person.key)[0]?.state === 'sent', 'the reply to be recorded as sent');
    const [reply] = connector.messagesTo(person.conversationId);
    // Sent as the answer to the activity it belongs to, as the first process would have.
    expect(reply!.inReplyTo).toBe(activity.id);
    expect(reply!.activity.attachments).toBeDefined();

    person.reconnect(url);
    const again = await person.post(activity);

    expect(again.status).toBe(200);
    expect(again.replies).toEqual([]);
    expect(connector.messagesTo(person.conversationId)).toHaveLength(1);
    expect(storedTurn(person.key)).toBe(1);
    // The conversation goes on as usual: the next answer comes alone, with no note of earlier ones.
    const next = await person.say('help');
    expect(next.replies).toHaveLength(1);
    expect(connector.messagesTo(person.conversationId)).toHaveLength(2);
  });

  it('a re-delivery after the restart sends the kept reply when the worker could not (connector still down)', async () => {
    const { person, activity } = await replyCommittedThenStopped('SIGKILL');

    // The restarted worker's attempt (one send and the client's 3 retries) is refused; its next try is an hour away.
    connector.failPosts = 4;
    const url = await start({ REPLY_DELIVERY_RETRY_SECONDS: '3600' });
    await waitFor(() => keptRows(person.key)[0]?.attempts === 1, 'the worker to try and fail', 60_000);
    expect(connector.messagesTo(person.conversationId)).toEqual([]);

    person.reconnect(url);
    const again = await person.post(activity);

    expect(again.status).toBe(200);
    expect(again.replies).toHaveLength(1);
    expect(again.replies[0]!.card).toBeDefined();
    expect(connector.messagesTo(person.conversationId)).toHaveLength(1);
    expect(keptRows(person.key)).toEqual([{ turn: 1, state: 'sent', done: 1, attempts: 1 }]);
  });

  it('a reply held by a hanging connector when SIGTERM forces the exit is sent once by the next process', async () => {
    const { person } = await replyCommittedThenStopped('SIGTERM', { SHUTDOWN_TIMEOUT_SECONDS: '0.5' });

    await start();
    await waitFor(() => keptRows(person.key)[0]?.state === 'sent', 'the restarted bot to send the kept reply');
    expect(connector.messagesTo(person.conversationId)).toHaveLength(1);
  });

  it('under expectReplies, a re-delivery after a restart is answered with the same replies, and the turn is not run again', async () => {
    const person = new Person(await start(), { channelId: 'emulator', locale: 'uk-UA' });
    await person.join();
    const first = await person.say(person.last.choices[0]!.value!);
    expect(first.replies.length).toBeGreaterThan(0);

    await bots.killAll('SIGKILL');
    person.reconnect(await start());
    const again = await person.post(first.sent);

    expect(again.status).toBe(200);
    expect(again.replies.map((r) => [r.text, r.choices])).toEqual(first.replies.map((r) => [r.text, r.choices]));
    expect(storedTurn(person.key)).toBe(2);
  });
});
