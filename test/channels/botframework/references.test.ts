/**
 * Conversation references are stored with the turn that brought them (issue 19: no write of their
 * own), when the conversation's row does not have their route as its mark yet (a new conversation,
 * another serviceUrl or language); not on every turn, and not again for a process that forgot them. The writer stores them in the turn's batched commit on
 * SQLite and PostgreSQL, only for turns that were stored, and leaves a row that is already current.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { referenceWithTurn } from '../../../src/channels/botframework/proactive';
import { Engine } from '../../../src/engine/engine';
import { createTranslator } from '../../../src/i18n';
import type { TurnCommit } from '../../../src/storage/turn-commit';
import { provisioningContactFlow } from '../../../dialogs/provisioning-contact/machine';
import { silentLogger } from '../../support';
import { BotConversationsRepository } from '../../../src/channels/botframework/conversations-repository';
import { DuplicateActivityError } from '../../../src/storage/errors';
import { postgresHarness, sqliteHarness, turnCommit, type StoreHarness } from '../../storage/harness';

function activity(serviceUrl: string, id: string): Parameters<typeof referenceWithTurn>[0] {
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

describe('referenceWithTurn', () => {
  it('marks a reference by its route: the same for every message of the conversation, another when the route changes', () => {
    const first = referenceWithTurn(activity('https://smba.example/emea/', 'm1'));
    expect(first.rows().botReference?.reference).toMatchObject({ serviceUrl: 'https://smba.example/emea/', conversation: { id: 'a:1conv' }, user: { id: '29:1user' }, bot: { id: '28:bot' } });
    // Without the message it came with: a proactive message is a new message.
    expect(first.rows().botReference?.reference).not.toHaveProperty('activityId');
    expect(referenceWithTurn(activity('https://smba.example/emea/', 'm2')).mark).toBe(first.mark);
    expect(referenceWithTurn(activity('https://smba.example/amer/', 'm3')).mark).not.toBe(first.mark);
    expect(referenceWithTurn({ ...activity('https://smba.example/emea/', 'm4'), locale: 'en-US' }).mark).not.toBe(first.mark);
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

  it('commits the reference with a turn only when the conversation does not have its route yet, whatever the process remembers', async () => {
    harness = make();
    const store = await harness.open();
    new BotConversationsRepository(store);
    const committed: TurnCommit[] = [];
    const commitTurn = store.commitTurn.bind(store);
    store.commitTurn = (commit) => {
      committed.push(commit);
      return commitTurn(commit);
    };
    const engine = () => new Engine({ store, flow: provisioningContactFlow, translator: createTranslator(), logger: silentLogger });
    const turn = (e: Engine, serviceUrl: string, id: string, text: string) =>
      e.handle({ channel: 'msteams', conversationId: 'a:1conv', activityId: id, user: { id: '29:1user' }, text }, { marked: referenceWithTurn(activity(serviceUrl, id)) });

    await turn(engine(), 'https://smba.example/emea/', 'm1', 'hello');
    await turn(engine(), 'https://smba.example/emea/', 'm2', 'help'); // a new engine: nothing remembered, the row says it is stored
    await turn(engine(), 'https://smba.example/amer/', 'm3', 'help');
    expect(committed.map((c) => c.botReference?.reference.serviceUrl)).toEqual(['https://smba.example/emea/', undefined, 'https://smba.example/amer/']);
    expect(await new BotConversationsRepository(store).findReference('msteams:a:1conv')).toMatchObject({ serviceUrl: 'https://smba.example/amer/' });
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
