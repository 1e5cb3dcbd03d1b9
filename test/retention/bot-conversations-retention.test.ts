/**
 * Retention also forgets what the Bot Framework channel kept for an idle conversation (its reference,
 * with the person's name and ids, and replies never delivered); a recent conversation keeps both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RetentionJob } from '../../src/retention/retention-job';
import { createStore, type SqlStore } from '../../src/storage';
import { BotConversationsRepository } from '../../src/channels/botframework/conversations-repository';
import { silentLogger, testDir } from '../support';

const DAY = 24 * 3600_000;
const NOW = new Date('2026-11-25T12:00:00.000Z');
let store: SqlStore;

afterEach(async () => {
  await store.close();
});

/** A conversation's turn, its reference stored with it (as a Teams turn stores it). */
async function conversation(key: string, updatedAt: Date): Promise<void> {
  const at = updatedAt.toISOString();
  await store.commitTurn({
    conversation: { key, channel: 'msteams', flowId: 'provisioning-contact', flowVersion: 1, snapshot: null, locale: 'en', parents: [], turn: 1, userId: 'u', createdAt: at, updatedAt: at },
    transcript: [],
    botReference: { channel: 'msteams', reference: { conversation: { id: key }, user: { id: 'u', name: 'Olena Partner' } } },
  });
}

describe('retention of Bot Framework conversation data', () => {
  it('deletes the reference and undelivered replies of an idle conversation, keeps a recent one', async () => {
    store = createStore(`sqlite:${testDir('bf-retention-').join('bot.sqlite')}`, silentLogger);
    await store.open();
    const repo = new BotConversationsRepository(store);
    const old = 'msteams:a:old';
    const recent = 'msteams:a:recent';
    await conversation(old, new Date(NOW.getTime() - 40 * DAY));
    await conversation(recent, new Date(NOW.getTime() - DAY));
    for (const key of [old, recent]) await repo.keepUndelivered(key, [{ type: 'message', text: 'summary with old@customer.example' }], NOW);

    await new RetentionJob({ store, retentionDays: 30, intervalMs: 60_000, logger: silentLogger, clock: () => NOW }).runOnce();

    expect(await repo.findReference(old)).toBeUndefined();
    expect(await repo.undelivered(old)).toEqual([]);
    expect(await repo.findReference(recent)).toBeDefined();
    expect(await repo.undelivered(recent)).toHaveLength(1);
  });
});
