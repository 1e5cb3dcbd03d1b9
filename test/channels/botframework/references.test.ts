/**
 * Conversation references are stored with the turn that brought them (issue 19: no write of their
 * own): due when new to this process, when the route to the conversation changed (another
 * serviceUrl), again after a day (retention may have deleted the row), and again after a turn that
 * was not committed; not on every turn. The writer stores them in the turn's batched commit on
 * SQLite and PostgreSQL, only for turns that were stored, and leaves a row that is already current.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConversationReferences } from '../../../src/channels/botframework/proactive';
import { BotConversationsRepository } from '../../../src/channels/botframework/conversations-repository';
import { DuplicateActivityError } from '../../../src/storage/errors';
import { postgresHarness, sqliteHarness, turnCommit, type StoreHarness } from '../../storage/harness';

const HOUR = 3_600_000;

function activity(serviceUrl: string, id: string): Parameters<ConversationReferences['due']>[1] {
  return {
    id,
    type: 'message',
    channelId: 'msteams',
    serviceUrl,
    conversation: { id: 'a:1conv', isGroup: false, conversationType: 'personal', name: '' },
    from: { id: '29:1user', name: 'Olena Partner' },
    recipient: { id: '28:bot', name: 'PCE Support' },
    locale: 'uk-UA',
  };
}

describe('ConversationReferences', () => {
  it('asks to store a reference once per route, again when the route changes, a day has passed, or its turn was not committed', () => {
    let now = new Date('2026-11-25T10:00:00.000Z');
    const references = new ConversationReferences({ clock: () => now });
    const key = 'msteams:a:1conv';

    const first = references.due(key, activity('https://smba.example/emea/', 'm1'));
    expect(first?.kept.reference).toMatchObject({ serviceUrl: 'https://smba.example/emea/', conversation: { id: 'a:1conv' }, user: { id: '29:1user' }, bot: { id: '28:bot' } });
    // Without the message it came with: a proactive message is a new message.
    expect(first?.kept.reference).not.toHaveProperty('activityId');
    // That turn failed: the next one carries it again.
    const again = references.due(key, activity('https://smba.example/emea/', 'm2'));
    expect(again).toBeDefined();
    references.committed(key, again!);
    expect(references.due(key, activity('https://smba.example/emea/', 'm3'))).toBeUndefined();

    const moved = references.due(key, activity('https://smba.example/amer/', 'm4'));
    expect(moved?.kept.reference).toMatchObject({ serviceUrl: 'https://smba.example/amer/' });
    references.committed(key, moved!);
    expect(references.due(key, activity('https://smba.example/amer/', 'm5'))).toBeUndefined();

    now = new Date(now.getTime() + 25 * HOUR);
    expect(references.due(key, activity('https://smba.example/amer/', 'm6'))).toBeDefined();
  });
});

describe.each([
  { name: 'sqlite', make: sqliteHarness },
  { name: 'postgres', make: postgresHarness },
])('the reference written with its turn on $name', ({ make }) => {
  let harness: StoreHarness;
  afterEach(async () => {
    await harness.cleanup();
  });

  it('is stored (and replaced) by the turn that carries it, and not by a turn the store refused', async () => {
    harness = make();
    const store = await harness.open();
    const repository = new BotConversationsRepository(store);
    const key = 'msteams:a:1conv';
    const at = (serviceUrl: string) => ({ channel: 'msteams', reference: { serviceUrl, conversation: { id: 'a:1conv' }, user: { id: '29:1user' } } });

    await store.commitTurn(turnCommit(key, 1, { activityKey: 'msteams:m1', botReference: at('https://smba.example/emea/') }));
    expect(await repository.findReference(key)).toMatchObject({ serviceUrl: 'https://smba.example/emea/' });

    // A re-delivered activity is refused: what it carries is not written.
    await expect(store.commitTurn(turnCommit(key, 2, { activityKey: 'msteams:m1', botReference: at('https://evil.example/') }))).rejects.toBeInstanceOf(DuplicateActivityError);
    expect(await repository.findReference(key)).toMatchObject({ serviceUrl: 'https://smba.example/emea/' });

    await store.commitTurn(turnCommit(key, 2, { activityKey: 'msteams:m2', botReference: at('https://smba.example/amer/') }));
    expect(await repository.findReference(key)).toMatchObject({ serviceUrl: 'https://smba.example/amer/', conversation: { id: 'a:1conv' } });

    // The same reference again (a returning person this process had forgotten): the row is not rewritten.
    const changedAt = async () =>
      (await store.db.withTables<{ conversation_references: { conversation_key: string; updated_at: string } }>().selectFrom('conversation_references').select('updated_at').where('conversation_key', '=', key).executeTakeFirstOrThrow()).updated_at;
    const amerAt = await changedAt();
    await store.commitTurn(turnCommit(key, 3, { activityKey: 'msteams:m3', botReference: at('https://smba.example/amer/') }));
    expect(await changedAt()).toEqual(amerAt);
    await store.commitTurn(turnCommit(key, 4, { activityKey: 'msteams:m4', botReference: at('https://smba.example/emea/') }));
    expect(await changedAt()).not.toEqual(amerAt);
    expect(await repository.findReference(key)).toMatchObject({ serviceUrl: 'https://smba.example/emea/' });
  });
});
