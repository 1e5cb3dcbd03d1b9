/** The Webex API client's retry policy and file details, against the fake Webex API. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebexApi, WebexApiError } from '../../../src/channels/webex/api';
import { FakeWebex } from './fake-webex';
import { silentLogger } from '../../support';

let fake: FakeWebex;
const client = (over: Partial<ConstructorParameters<typeof WebexApi>[0]> = {}) =>
  new WebexApi({ baseUrl: fake.url, token: fake.token, logger: silentLogger, backoffMs: 5, ...over });

beforeAll(async () => {
  fake = await FakeWebex.start();
});
afterEach(() => fake.reset());
afterAll(async () => {
  await fake.close();
});

const requestsTo = (path: string) => fake.requests.filter((r) => r.path === path);

describe('WebexApi', () => {
  it('waits out a 429 whose Retry-After is an HTTP date', async () => {
    fake.failNext('GET', /^\/v1\/people\/me$/, 429, { retryAfter: new Date(Date.now() + 1_000).toUTCString() });
    const before = requestsTo('/v1/people/me').length;
    expect((await client().me()).id).toBe(fake.bot.id);
    expect(requestsTo('/v1/people/me').slice(before).map((r) => r.status)).toEqual([429, 200]);
  });

  it('gives up at once on a Retry-After longer than it is willing to wait', async () => {
    fake.failNext('GET', /^\/v1\/people\/me$/, 429, { retryAfter: '3600' });
    const err = await client({ maxRetryAfterMs: 5_000 }).me().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebexApiError);
    expect((err as WebexApiError).status).toBe(429);
  });

  it('retries 5xx a bounded number of times, then fails with the status', async () => {
    fake.failNext('GET', /^\/v1\/people\/me$/, 502, { count: 3 });
    const before = requestsTo('/v1/people/me').length;
    const err = await client({ maxRetries: 2 }).me().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebexApiError);
    expect((err as WebexApiError).status).toBe(502);
    expect(requestsTo('/v1/people/me').length - before).toBe(3); // one attempt + two retries
    await expect(client().me()).resolves.toMatchObject({ id: fake.bot.id }); // and the next call is fine
  });

  it('does not post a message again after a POST that reached Webex but was not answered in time', async () => {
    const room = fake.room('direct');
    fake.answerLateNext('POST', /^\/v1\/messages$/, 1_000);
    const err = await client({ timeoutMs: 200 }).createMessage({ roomId: room.id, markdown: 'Only once' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebexApiError);
    expect((err as WebexApiError).name).toBe('WebexUnknownOutcomeError');
    // The message arrived (slowly); the space shows it once.
    expect(fake.posted.filter((m) => m.roomId === room.id).map((m) => m.markdown)).toEqual(['Only once']);
  });

  it('still retries a POST that Webex answered with 429 or 5xx: it did not take the message', async () => {
    const room = fake.room('direct');
    fake.failNext('POST', /^\/v1\/messages$/, 503);
    fake.failNext('POST', /^\/v1\/messages$/, 429, { retryAfter: '0' });
    const before = requestsTo('/v1/messages').length;
    await client().createMessage({ roomId: room.id, markdown: 'Once, after two refusals' });
    expect(requestsTo('/v1/messages').slice(before).map((r) => r.status)).toEqual([503, 429, 200]);
    expect(fake.posted.filter((m) => m.roomId === room.id)).toHaveLength(1);
  });

  it('does not retry a refused token, and says what to check', async () => {
    const before = requestsTo('/v1/people/me').length;
    const err = await client({ token: 'wrong' }).me().catch((e: unknown) => e);
    expect((err as WebexApiError).status).toBe(401);
    expect((err as WebexApiError).message).toContain('WEBEX_BOT_TOKEN');
    expect(requestsTo('/v1/people/me').length - before).toBe(1);
  });

  it('treats deleting a message that is already gone as done', async () => {
    await expect(client().deleteMessage('no-such-message')).resolves.toBeUndefined();
  });

  it('reads file details with a HEAD request, and never sends the token to another host', async () => {
    const room = fake.room('direct');
    const { message } = await fake.userSays(room, fake.person('F', 'f@example.com'), 'see screenshot', {
      files: [{ name: 'ccw status.png', contentType: 'image/png', content: Buffer.alloc(1234, 1) }],
    });
    expect(await client().fileInfo(message.files![0]!)).toEqual({ name: 'ccw status.png', contentType: 'image/png', size: 1234 });
    expect(await client().fileInfo('https://elsewhere.example.com/v1/contents/x')).toBeUndefined();
  });
});
