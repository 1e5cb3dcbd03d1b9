import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/channels/directline/access';
import type { DirectLineConversation } from '../../../src/channels/directline/activity-log';
import type { DirectLineActivity } from '../../../src/channels/directline/protocol';
import { SqlActivityLog } from '../../../src/channels/directline/sql-activity-log';
import { postgresHarness, sqliteHarness, type StoreHarness } from '../../storage/harness';
import { uniqueName } from '../../support';

function conversation(): DirectLineConversation {
  return { id: uniqueName('conv').replace(/[^A-Za-z0-9_-]/g, ''), secretHash: sha256('secret'), userId: 'wc_user', locale: 'uk-UA', createdAt: '2026-01-02T03:04:05.000Z' };
}

function activity(conversationId: string, seq: number, text: string, clientActivityID?: string): DirectLineActivity {
  return {
    type: 'message',
    id: `${conversationId}|${seq}`,
    timestamp: '2026-01-02T03:04:05.000Z',
    channelId: 'directline',
    conversation: { id: conversationId },
    from: { id: 'wc_user', role: 'user' },
    text,
    ...(clientActivityID ? { channelData: { clientActivityID } } : {}),
  };
}

describe.each([
  ['SQLite', sqliteHarness],
  ['PostgreSQL', postgresHarness],
] as const)('SqlActivityLog on %s', (_name, makeHarness) => {
  let harness: StoreHarness;

  afterEach(async () => {
    await harness.cleanup();
  });

  it('keeps a conversation and returns activities after a watermark in order, across a reopen', async () => {
    harness = makeHarness();
    const log = new SqlActivityLog(await harness.open());
    const c = conversation();
    await log.createConversation(c);
    expect(await log.getConversation(c.id)).toEqual(c);
    expect(await log.getConversation('missing-conversation')).toBeUndefined();

    const stored = await log.append(c.id, 3, (seq, i) => activity(c.id, seq, `m${i}`, i === 1 ? 'client-1' : undefined));
    expect(stored.map((s) => s.seq)).toEqual([1, 2, 3]);

    const reopened = new SqlActivityLog(await harness.open());
    expect((await reopened.since(c.id, 0, 100)).map((e) => e.activity.text)).toEqual(['m0', 'm1', 'm2']);
    expect((await reopened.since(c.id, 1, 100)).map((e) => e.seq)).toEqual([2, 3]);
    expect(await reopened.since(c.id, 3, 100)).toEqual([]);
    expect((await reopened.since(c.id, 0, 2)).map((e) => e.seq)).toEqual([1, 2]);
    expect((await reopened.findByClientActivityId(c.id, 'client-1'))?.activity.id).toBe(`${c.id}|2`);
    expect(await reopened.findByClientActivityId(c.id, 'client-2')).toBeUndefined();
  });

  // SQLite serves one bot instance (one connection); PostgreSQL is where several instances share a log.
  it('numbers concurrent appends (from two bot instances on PostgreSQL) without gaps or repeats', async () => {
    harness = makeHarness();
    const one = new SqlActivityLog(await harness.open());
    const two = harness.dialect === 'postgres' ? new SqlActivityLog(await harness.open()) : one;
    const c = conversation();
    await one.createConversation(c);
    const writes = Array.from({ length: 24 }, (_, i) =>
      (i % 2 ? one : two).append(c.id, 1 + (i % 3), (seq, k) => activity(c.id, seq, `w${i}.${k}`)),
    );
    const results = await Promise.all(writes);
    const total = results.reduce((n, r) => n + r.length, 0);
    const all = await one.since(c.id, 0, 1000);
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Each append's activities are consecutive and carry the seq they were given.
    for (const r of results) {
      expect(r.map((e) => e.seq)).toEqual(r.map((_, k) => r[0]!.seq + k));
      for (const e of r) expect(all[e.seq - 1]!.activity.id).toBe(`${c.id}|${e.seq}`);
    }
  });
});
