/**
 * Smart Bonding updates with several bot servers on one PostgreSQL schema: both pull from the same
 * Smart Bonding (which hands some messages out twice, as after a lost answer), and the person hears
 * every update exactly once; an update pulled and stored by a server that stopped before telling it
 * is told once by the next one, and a third start tells nothing again.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SqlStore } from '../../src/storage/index';
import { dropPostgresSchema, startInstance, uniqueName, type Instance } from '../support';
import { FakeSmartBonding, startFakeSmartBonding } from '../support/fake-smartbonding';
import { seedCase } from './helpers';
import { botTexts, startWebChat, type WebChat } from './walk';

const schemas: string[] = [];
let servers: Instance[] = [];
let sb: FakeSmartBonding;

beforeEach(async () => {
  sb = await startFakeSmartBonding();
});
afterEach(async () => {
  for (const s of servers) await s.stop();
  servers = [];
  await sb.stop();
});
afterAll(async () => {
  for (const schema of schemas) await dropPostgresSchema(schema);
});

async function instance(schema: string, name: string): Promise<Instance> {
  const started = await startInstance(schema, name, { ...sb.env(), SMARTBONDING_POLL_SECONDS: '0.02', CASE_DELIVERY_POLL_SECONDS: '0.02', WEBCHAT_ENABLED: 'true' });
  servers.push(started);
  return started;
}

async function stop(server: Instance): Promise<void> {
  servers = servers.filter((s) => s !== server);
  await server.stop();
}

/** A delivered Smart Bonding case of this web chat conversation. */
function seedWebChatCase(server: Instance, c: WebChat) {
  return seedCase(server.app.store as SqlStore, {
    conversationKey: `directline:${c.conversationId}`,
    channel: 'directline',
    locale: 'en',
    openedBy: { kind: 'person', userKey: `directline:${c.userId}` },
    delivery: { backend: 'smartbonding', status: 'delivered', attempts: 1, deliveredAt: '2026-11-25T10:01:00.000Z' },
  });
}

const notes = async (url: string, c: WebChat) => (await botTexts(url, c)).filter((text) => text.includes('note #'));
const wait = { timeout: 20_000, interval: 50 };

describe('Smart Bonding updates on PostgreSQL', () => {
  it('two instances pulling: each update stored once and told once, messages handed out twice included', async () => {
    const schema = uniqueName('sb_updates');
    schemas.push(schema);
    const a = await instance(schema, 'a');
    const b = await instance(schema, 'b');
    const c = await startWebChat(a.url, 'en');
    const record = await seedWebChatCase(a, c);

    const count = 12;
    for (let i = 0; i < count; i++) {
      const message = JSON.stringify({ Calls: { CustCallID: record.reference, SDCallID: `SD${i}`, SPCallID: '694812345', Remarks: `note #${i}` }, CallStates: { ShortName: 'Update' } });
      sb.queueRaw(message);
      if (i % 3 === 0) sb.queueRaw(message);
    }
    await vi.waitFor(() => expect(sb.waitingCount).toBe(0), wait);
    await vi.waitFor(async () => expect(await a.app.cases.updates.countUntold()).toBe(0), wait);
    await new Promise((r) => setTimeout(r, 300));

    const told = await notes(b.url, c);
    expect(told).toHaveLength(count);
    for (let i = 0; i < count; i++) expect(told.filter((text) => text.includes(`“note #${i}”`))).toHaveLength(1);
    expect(await a.app.cases.updates.history(record.reference)).toHaveLength(count);
    // Both servers asked Smart Bonding (the work is shared, not left to one).
    expect(new Set(sb.requests.filter((r) => r.path.endsWith('/pull/call')).map((r) => r.authorization)).size).toBe(2);
  });

  it('across a restart: pulled and stored, not yet told, is told once by the next server; a third tells nothing', async () => {
    const schema = uniqueName('sb_restart');
    schemas.push(schema);
    const first = await instance(schema, 'first');
    const c = await startWebChat(first.url, 'en');
    const record = await seedWebChatCase(first, c);
    // The first server pulls and stores, then stops before telling (as if it died right after storing).
    await first.app.cases.updateNotices!.stop();
    sb.tacUpdate(record.reference, { state: 'Waiting for Customer', spCallId: '694812345', remarks: 'note #restart' });
    await vi.waitFor(async () => expect(await first.app.cases.updates.countUntold()).toBe(1), wait);
    expect(await notes(first.url, c)).toEqual([]);
    await stop(first);

    const second = await instance(schema, 'second');
    await vi.waitFor(async () => expect(await notes(second.url, c)).toHaveLength(1), wait);
    await stop(second);

    const third = await instance(schema, 'third');
    await new Promise((r) => setTimeout(r, 400));
    expect(await notes(third.url, c)).toHaveLength(1);
    expect(await third.app.cases.updates.countUntold()).toBe(0);
    expect(await third.app.cases.updates.history(record.reference)).toHaveLength(1);
  });
});
