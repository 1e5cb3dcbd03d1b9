/**
 * The SQL activity log's part in issue 14 on both dialects: the per-conversation bound under
 * concurrent appends (two instances on PostgreSQL), cards found by key, and token rotation as a
 * compare-and-set (of two refreshes at once, one replaces the secret).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/channels/directline/access';
import { cardKey, MemoryActivityLog, type DirectLineConversation } from '../../../src/channels/directline/activity-log';
import type { DirectLineActivity } from '../../../src/channels/directline/protocol';
import { SqlActivityLog } from '../../../src/channels/directline/sql-activity-log';
import { postgresHarness, sqliteHarness, type StoreHarness } from '../../storage/harness';
import { uniqueName } from '../../support';

function conversation(): DirectLineConversation {
  return { id: uniqueName('conv').replace(/[^A-Za-z0-9_-]/g, ''), secretHash: sha256('secret'), userId: 'wc_user', createdAt: '2026-01-02T03:04:05.000Z' };
}

function message(conversationId: string, seq: number, role: 'user' | 'bot' = 'user', card?: { step: string; prompt: string }): DirectLineActivity {
  return {
    type: 'message',
    id: `${conversationId}|${seq}`,
    timestamp: '2026-01-02T03:04:05.000Z',
    channelId: 'directline',
    conversation: { id: conversationId },
    from: { id: role === 'bot' ? 'bot' : 'wc_user', role },
    ...(card
      ? { attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { actions: [{ type: 'Action.Submit', title: 'Yes', data: { choice: 'yes', ...card } }] } }] }
      : { text: `m${seq}` }),
  };
}

describe.each([
  ['SQLite', sqliteHarness],
  ['PostgreSQL', postgresHarness],
] as const)('SqlActivityLog bounds on %s', (_name, makeHarness) => {
  let harness: StoreHarness;

  afterEach(async () => {
    await harness.cleanup();
  });

  it('keeps the newest activities of concurrent appends, numbered on without gaps', async () => {
    harness = makeHarness();
    const one = new SqlActivityLog(await harness.open(), { maxActivities: 10 });
    const two = harness.dialect === 'postgres' ? new SqlActivityLog(await harness.open(), { maxActivities: 10 }) : one;
    const c = conversation();
    await one.createConversation(c);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? one : two).append(c.id, 1 + (i % 3), (seq) => message(c.id, seq))));
    const total = results.reduce((n, r) => n + r.length, 0);
    const kept = await one.since(c.id, 0, 1000);
    expect(kept.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => total - 9 + i));
    expect((await one.append(c.id, 1, (seq) => message(c.id, seq)))[0]!.seq).toBe(total + 1);
  });

  it('finds the latest bot card asking a question by its key, and no user activity', async () => {
    harness = makeHarness();
    const log = new SqlActivityLog(await harness.open());
    const c = conversation();
    await log.createConversation(c);
    const question = { step: 'summary', prompt: 'Is this right?' };
    await log.append(c.id, 4, (seq, i) => message(c.id, seq, i === 3 ? 'user' : 'bot', i === 1 ? undefined : question));
    expect((await log.findCard(c.id, cardKey(question)))?.seq).toBe(3);
    expect(await log.findCard(c.id, cardKey({ step: 'summary', prompt: 'Something else?' }))).toBeUndefined();
  });

  it('replaces a secret only while it is still the current one', async () => {
    harness = makeHarness();
    const log = new SqlActivityLog(await harness.open());
    const c = conversation();
    await log.createConversation({ ...c, siteKey: '' });
    const rotation = (secretHash: string) => ({
      expectedHash: c.secretHash,
      secretHash,
      issuedAt: '2026-01-02T04:00:00.000Z',
      previousSecretHash: c.secretHash,
      previousSecretUntil: '2026-01-02T04:02:00.000Z',
      siteKey: 'site',
    });
    const outcomes = await Promise.all([log.rotateSecret(c.id, rotation(sha256('a'))), log.rotateSecret(c.id, rotation(sha256('b')))]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const stored = await log.getConversation(c.id);
    expect(stored).toMatchObject({
      secretHash: outcomes[0] ? sha256('a') : sha256('b'),
      secretIssuedAt: '2026-01-02T04:00:00.000Z',
      previousSecretHash: c.secretHash,
      previousSecretUntil: '2026-01-02T04:02:00.000Z',
      siteKey: 'site',
    });
  });
});

describe('MemoryActivityLog bounds (a bot without a SQL store)', () => {
  it('keeps the newest activities, numbers on, and forgets the keys of dropped cards', async () => {
    const log = new MemoryActivityLog(3);
    const c = conversation();
    await log.createConversation(c);
    const question = { step: 'summary', prompt: 'Is this right?' };
    await log.append(c.id, 1, (seq) => message(c.id, seq, 'bot', question));
    expect((await log.findCard(c.id, cardKey(question)))?.seq).toBe(1);
    await log.append(c.id, 4, (seq) => message(c.id, seq));
    expect((await log.since(c.id, 0, 10)).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect((await log.since(c.id, 4, 10)).map((e) => e.seq)).toEqual([5]);
    expect(await log.findCard(c.id, cardKey(question))).toBeUndefined();
  });
});
