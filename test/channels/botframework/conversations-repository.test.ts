/** Conversation references and undelivered replies, on SQLite and PostgreSQL alike, across a restart. */
import { afterEach, describe, expect, it } from 'vitest';
import { BotConversationsRepository } from '../../../src/channels/botframework/conversations-repository';
import { postgresHarness, sqliteHarness, turnCommit, type StoreHarness } from '../../storage/harness';

const AT = new Date('2026-11-25T10:00:00.000Z');

describe.each([
  { name: 'sqlite', make: sqliteHarness },
  { name: 'postgres', make: postgresHarness },
])('bot conversations on $name', ({ make }) => {
  let harness: StoreHarness;
  afterEach(async () => {
    await harness.cleanup();
  });

  it('stores a reference with its turn, replaces it, and reads it back after a restart', async () => {
    harness = make();
    const store = await harness.open();
    const repo = new BotConversationsRepository(store);
    const reference = { channelId: 'msteams', serviceUrl: 'https://smba.example/emea/', conversation: { id: 'a:1xyz' }, user: { id: '29:1u' }, bot: { id: '28:b' } };
    expect(await repo.findReference('msteams:a:1xyz')).toBeUndefined();
    await store.commitTurn(turnCommit('msteams:a:1xyz', 1, { botReference: { channel: 'msteams', reference } }));
    await store.commitTurn(turnCommit('msteams:a:1xyz', 2, { botReference: { channel: 'msteams', reference: { ...reference, serviceUrl: 'https://smba.example/amer/' } } }));

    const again = new BotConversationsRepository(await harness.open());
    expect(await again.findReference('msteams:a:1xyz')).toEqual({ ...reference, serviceUrl: 'https://smba.example/amer/' });
  });

  it('keeps undelivered replies in order per conversation and forgets the ones sent', async () => {
    harness = make();
    const repo = new BotConversationsRepository(await harness.open());
    await repo.keepUndelivered('emulator:c1', [{ type: 'message', text: 'one' }, { type: 'message', text: 'two' }], AT);
    await repo.keepUndelivered('emulator:c2', [{ type: 'message', text: 'other' }], AT);
    await repo.keepUndelivered('emulator:c1', [{ type: 'message', text: 'three' }], AT);

    const kept = await repo.undelivered('emulator:c1');
    expect(kept.map((k) => k.activity.text)).toEqual(['one', 'two', 'three']);
    await repo.removeUndelivered(kept.slice(0, 2).map((k) => k.id));

    expect((await repo.undelivered('emulator:c1')).map((k) => k.activity.text)).toEqual(['three']);
    expect((await repo.undelivered('emulator:c2')).map((k) => k.activity.text)).toEqual(['other']);
  });
});
