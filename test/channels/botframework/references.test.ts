/**
 * Conversation references are written when new to this process, when the route to the conversation
 * changed (another serviceUrl), and again after a day (retention may have deleted the row), not on
 * every turn. A real SQLite store; the clock is given.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConversationReferences } from '../../../src/channels/botframework/proactive';
import { createStore, type SqlStore } from '../../../src/storage';
import { BotConversationsRepository } from '../../../src/channels/botframework/conversations-repository';
import { silentLogger, testDir } from '../../support';

const HOUR = 3_600_000;
let store: SqlStore;

afterEach(async () => {
  await store.close();
});

function activity(serviceUrl: string, id: string): Parameters<ConversationReferences['remember']>[1] {
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
  it('writes a reference once per route, again when the route changes or a day has passed', async () => {
    store = createStore(`sqlite:${testDir('pce-bf-').join('bot.sqlite')}`, silentLogger);
    await store.open();
    const saves: string[] = [];
    class Counting extends BotConversationsRepository {
      override async saveReference(key: string, channel: string, reference: Record<string, unknown>, at: Date): Promise<void> {
        saves.push(String(reference.serviceUrl));
        await super.saveReference(key, channel, reference, at);
      }
    }
    const repository = new Counting(store);
    let now = new Date('2026-11-25T10:00:00.000Z');
    const references = new ConversationReferences({ repository, logger: silentLogger, clock: () => now });

    await references.remember('msteams:a:1conv', activity('https://smba.example/emea/', 'm1'));
    await references.remember('msteams:a:1conv', activity('https://smba.example/emea/', 'm2'));
    expect(saves).toEqual(['https://smba.example/emea/']);

    await references.remember('msteams:a:1conv', activity('https://smba.example/amer/', 'm3'));
    expect(saves).toEqual(['https://smba.example/emea/', 'https://smba.example/amer/']);

    now = new Date(now.getTime() + 25 * HOUR);
    await references.remember('msteams:a:1conv', activity('https://smba.example/amer/', 'm4'));
    expect(saves).toHaveLength(3);

    // Stored without the message it came with: a proactive message is a new message.
    const stored = await repository.findReference('msteams:a:1conv');
    expect(stored).toMatchObject({ serviceUrl: 'https://smba.example/amer/', conversation: { id: 'a:1conv' }, user: { id: '29:1user' }, bot: { id: '28:bot' } });
    expect(stored).not.toHaveProperty('activityId');
  });
});
