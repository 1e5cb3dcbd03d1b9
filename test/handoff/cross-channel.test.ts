/**
 * Talk to a person across channels (issue 22): a person in Teams, in Ukrainian, and the engineers
 * in the Webex space. Their messages go each way, each in its own channel; the person ends the chat,
 * says it is not solved, and the case intake takes over with what is known.
 */
import { describe, expect, it } from 'vitest';
import { parseReply, Person } from '../channels/botframework/harness';
import { cardText, eventually, pressTake, requestCards, thread, unescape, useRig, lastNote } from './rig';

const rig = useRig();

describe('a Teams person with engineers in Webex', () => {
  it('is conducted in Ukrainian both ways, ended by the person, and a case follows when it is not solved', async () => {
    const bot = await rig.start();
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'uk-UA', connector: rig.connector });
    await person.join();

    const asked = await person.say('Хочу поговорити з людиною');
    expect(unescape(asked.replies.map((r) => r.text).join('\n'))).toContain('Я попросив інженерів підтримки приєднатися до цього чату');
    const card = await eventually(() => {
      const cards = requestCards(rig);
      expect(cards).toHaveLength(1);
      return cards[0]!;
    });
    expect(cardText(card)).toContain('Channel: msteams');
    expect(cardText(card)).toContain('Language: Ukrainian');

    const before = rig.connector.messagesTo(person.conversationId).length;
    await pressTake(rig, card, rig.olena);
    const joined = await eventually(() => {
      const sent = rig.connector.messagesTo(person.conversationId);
      expect(sent.length).toBe(before + 1);
      return parseReply(sent.at(-1)!.activity, sent.at(-1)!.id);
    });
    expect(joined.text).toContain('До чату долучається Olena Bondar з команди підтримки');
    expect(joined.choices.map((c) => c.label)).toEqual(['Завершити чат']);
    const root = await eventually(() => lastNote(rig)!);

    // The person's words go to the thread; in Teams nothing but "typing…" answers them.
    const said = await person.say('Лист активації так і не прийшов');
    expect(said.replies).toEqual([]);
    await eventually(() => expect(thread(rig, root.id)).toContain('Customer: Лист активації так і не прийшов'));

    // The engineer's answer reaches the person in Teams, as a new message.
    const count = rig.connector.messagesTo(person.conversationId).length;
    await rig.webex.userSays(rig.expertRoom, rig.olena, 'Перевірте, будь ласка, папку «Спам».', { parentId: root.id });
    await eventually(() => expect(rig.connector.messagesTo(person.conversationId).length).toBe(count + 1));
    expect(unescape(String(rig.connector.messagesTo(person.conversationId).at(-1)!.activity.text))).toBe(
      'Olena Bondar (інженер підтримки): Перевірте, будь ласка, папку «Спам».',
    );

    // The person ends it by typing; the engineer is told in the thread, the person is asked.
    const ended = await person.say('завершити');
    const question = ended.replies.at(-1)!;
    expect(unescape(question.text)).toContain('Ви завершили чат із Olena Bondar.');
    expect(question.text).toContain('Вашу проблему розв’язано?');
    await eventually(() => expect(thread(rig, root.id).at(-1)).toMatch(/^The customer ended the chat\. Hand-off H-[0-9A-F]{6} is closed\.$/));

    // Not solved: the case intake takes over, with the hand-off in the decision trail.
    const no = await person.pressOn(question, question.choices.find((c) => c.label === 'Ні, ще ні')!);
    expect(unescape(no.replies.map((r) => r.text).join('\n'))).toContain('Який номер замовлення?');
    const stored = await bot.app.store.loadConversation(person.key);
    expect(stored?.flowId).toBe('support-case');
    const draft = (stored!.snapshot as { context: { draft: { trail: { step: string }[]; locale: string } } }).context.draft;
    expect(draft.locale).toBe('uk');
    expect(draft.trail.map((e) => e.step)).toContain('handoff');
  });
});
