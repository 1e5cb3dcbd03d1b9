/**
 * A person never sees a step twice: an instance waiting out Webex rate limits keeps its claim on the
 * notification (another instance on the same PostgreSQL does not resume it meanwhile), a holder whose
 * claim was taken over posts nothing more, and a reply whose POST reached Webex but got no answer in
 * time is not posted again. Real bots on a real database, against the fake Webex over HTTP.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../../src/storage/index';
import { WebexRepository } from '../../../src/channels/webex/inbox-repository';
import type { FakeWebex } from './fake-webex';
import { dropPostgresSchema, TEST_DATABASE_URL, uniqueName } from '../../support';
import { eventually, offeredChoices, useFakeWebex, type RunningBot } from './harness';

let fake: FakeWebex;
const webex = useFakeWebex((f) => (fake = f), 'no-duplicates');

const inboxOf = (b: RunningBot) => new WebexRepository(b.app.store as SqlStore);
/** Blocks the whole process (event loop, timers, the claim's renewal) for `ms`, as a long GC pause or a starved CPU would. */
function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy on purpose: nothing else may run meanwhile
  }
}

/** Statuses of the POST /v1/messages answers the fake gave since request number `since`. */
const postsSince = (since: number) => fake.requests.slice(since).filter((r) => r.method === 'POST' && r.path === '/v1/messages').map((r) => r.status);

describe('several instances on PostgreSQL', () => {
  const schema = uniqueName('webex_no_dup');
  // Short enough that a 429 wait outlasts it twice over; the claim is renewed every third of it.
  const LEASE_MS = 1_500;
  afterAll(() => dropPostgresSchema(schema));

  /** An instance on the shared schema; only `receiving` registers the webhooks (gets the notifications). */
  async function instance(receiving: boolean): Promise<RunningBot> {
    return webex.start({
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      registerWebhooks: receiving,
      inbox: { pollMs: 3_600_000, leaseMs: LEASE_MS },
    });
  }

  it('an instance waiting out a long 429 keeps its claim: another instance does not resume the notification meanwhile', async () => {
    const a = await instance(true);
    const b = await instance(false);
    const room = fake.room('direct');
    const person = fake.person('Halyna', 'halyna@example.com');
    const since = fake.requests.length;
    fake.failNext('POST', /^\/v1\/messages$/, 429, { retryAfter: '3' }); // twice the lease
    const { message } = await fake.userSays(room, person, 'hello');
    await eventually('a is waiting out the 429 on its reply', () => postsSince(since).includes(429));

    // While a waits, b keeps looking for notifications whose claim ran out, until a's reply goes out.
    const claimedByB: number[] = [];
    await eventually('the reply goes out after the wait', async () => {
      claimedByB.push(await b.channel.resumeUnfinished());
      return postsSince(since).length > 1;
    });
    await a.settle();
    await b.settle();

    expect(claimedByB.filter((n) => n > 0)).toEqual([]); // b never claimed it
    expect(b.inbounds).toEqual([]);
    expect(a.inbounds.map((i) => i.activityId)).toEqual([message.id]);
    expect(postsSince(since)).toEqual([429, 200]);
    expect(fake.visible(room.id)).toHaveLength(1);
    expect(offeredChoices(fake, room).length).toBeGreaterThan(0);
    expect((await inboxOf(a).find(message.id))?.status).toBe('handled');
  });

  it('an instance stalled past its lease, with nobody taking the notification over, still answers it, once', async () => {
    let stalled = false;
    const a = await webex.start({
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      inbox: { pollMs: 3_600_000, leaseMs: LEASE_MS },
      // The claim's timer cannot run: when the replies are due, the claim is past its end.
      afterTurn: () => {
        if (!stalled) stall(LEASE_MS * 1.4);
        stalled = true;
      },
    });
    const room = fake.room('direct');
    const person = fake.person('Oksana', 'oksana@example.com');
    const since = fake.requests.length;
    const { message } = await fake.userSays(room, person, 'hello');
    await a.settle();

    expect(stalled).toBe(true);
    expect(postsSince(since)).toEqual([200]);
    expect(fake.visible(room.id)).toHaveLength(1);
    expect(offeredChoices(fake, room).length).toBeGreaterThan(0);
    expect(await inboxOf(a).find(message.id)).toMatchObject({ status: 'handled' });
  });

  it('an instance stalled past its lease whose notification was taken over meanwhile posts nothing for it', async () => {
    let taken: string[] = [];
    const a: RunningBot = await webex.start({
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      inbox: { pollMs: 3_600_000, leaseMs: LEASE_MS },
      afterTurn: async () => {
        if (taken.length) return;
        // Another instance takes it over (its clock past the lease), then this one stalls past its end.
        const claimed = await inboxOf(a).claimDue({ workerId: 'other-instance', now: new Date(Date.now() + 3_600_000), leaseMs: 3_600_000, limit: 10 });
        taken = claimed.map((e) => e.notificationId);
        stall(LEASE_MS * 1.4);
      },
    });
    const room = fake.room('direct');
    const person = fake.person('Taras', 'taras@example.com');
    const since = fake.requests.length;
    const { message } = await fake.userSays(room, person, 'hello');
    await a.settle();

    expect(taken).toEqual([message.id]);
    expect(postsSince(since)).toEqual([]);
    expect(fake.posted.filter((m) => m.roomId === room.id)).toEqual([]);
    expect(await inboxOf(a).find(message.id)).toMatchObject({ status: 'turned', claimedBy: 'other-instance' });
  });

  it('an instance whose claim was taken over stops: it posts nothing more for that notification', async () => {
    const a = await instance(true);
    const room = fake.room('direct');
    const person = fake.person('Ihor', 'ihor@example.com');
    const since = fake.requests.length;
    fake.failNext('POST', /^\/v1\/messages$/, 429, { retryAfter: '3' });
    const { message } = await fake.userSays(room, person, 'hello');
    await eventually('a is waiting out the 429 on its reply', () => postsSince(since).includes(429));

    // Another instance takes the claim over (as one would whose clock is past the lease).
    const taken = await inboxOf(a).claimDue({ workerId: 'other-instance', now: new Date(Date.now() + 3_600_000), leaseMs: 3_600_000, limit: 10 });
    expect(taken.map((e) => e.notificationId)).toEqual([message.id]);
    await a.settle();

    // a neither posted its reply after the wait nor apologised: the other instance answers.
    expect(postsSince(since)).toEqual([429]);
    expect(fake.posted.filter((m) => m.roomId === room.id)).toEqual([]);
    expect(await inboxOf(a).find(message.id)).toMatchObject({ status: 'turned', claimedBy: 'other-instance' });
  });
});

describe('a reply that reached Webex but was not answered in time', () => {
  it('is not posted again, and no apology follows it: the person sees the step once', async () => {
    // A per-attempt timeout far below the fake's late answer, far above its ordinary ones.
    const b = await webex.start({ api: { timeoutMs: 1_000 } });
    const room = fake.room('direct');
    const person = fake.person('Kateryna', 'kateryna@example.com');
    const since = fake.requests.length;
    fake.answerLateNext('POST', /^\/v1\/messages$/, 3_000);
    const { message } = await fake.userSays(room, person, 'hello');
    await b.settle();

    expect(b.inbounds.map((i) => i.activityId)).toEqual([message.id]);
    expect(postsSince(since)).toHaveLength(1);
    const seen = fake.visible(room.id);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.attachments?.length).toBe(1);
    expect(offeredChoices(fake, room).length).toBeGreaterThan(0);
    // Not resumed either (that would show the step again); kept as failed, with why.
    expect(await inboxOf(b).find(message.id)).toMatchObject({ status: 'failed' });
    expect(await b.channel.resumeUnfinished()).toBe(0);
  });
});
