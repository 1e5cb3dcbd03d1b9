/**
 * Talk to a person, all in Webex (issue 22): a person in a Webex space asks for a person; the
 * request is a card in the engineers' space; an engineer in AGENT_IDS takes it; the two talk through
 * the bot (the person's room, the card's thread); either ends it, and the person is asked whether it
 * is solved. Over real HTTP against the fake Webex API.
 */
import { describe, expect, it } from 'vitest';
import { cardText, eventually, lastNote, pressTake, requestCards, thread, unescape, useRig, webexSince } from './rig';

const rig = useRig();

describe('a hand-off in Webex, in English', () => {
  it('is asked for, taken by the first engineer, conducted both ways and ended by the engineer', async () => {
    const bot = await rig.start();
    const room = rig.webex.room('direct');
    const person = rig.webex.person('Pat Partner', 'pat@partner.example.com');
    await rig.webex.userSays(room, person, 'hi');
    await eventually(() => expect(rig.webex.visible(room.id).length).toBeGreaterThan(0));

    const before = rig.webex.posted.filter((m) => m.roomId === room.id).length;
    await rig.webex.userSays(room, person, 'I want to talk to a person');
    await eventually(() => expect(webexSince(rig, room, before)).toContain("I've asked our support engineers to join this chat"));
    // The guide's question stands below: meanwhile the person can carry on.
    expect(webexSince(rig, room, before)).toContain('What do you need?');

    // The request: a card with the English summary, language and channel, and "Take it".
    const card = await eventually(() => {
      const cards = requestCards(rig);
      expect(cards).toHaveLength(1);
      return cards[0]!;
    });
    const text = cardText(card);
    expect(text).toMatch(/Hand-off request H-[0-9A-F]{6}: a person wants to talk to support/);
    expect(text).toContain('Channel: webex');
    expect(text).toContain('Language: English');
    expect(text).toContain('Why: the person asked for support');
    expect(text).toContain('Opened by: <pat@partner.example.com>');

    // A customer in the space cannot take it; an engineer in AGENT_IDS can.
    await pressTake(rig, card, rig.stranger);
    await eventually(() => expect(thread(rig, card.id)).toEqual(['Sorry, only support engineers listed in AGENT_IDS can take hand-offs.']));
    expect(requestCards(rig)).toHaveLength(1);
    await pressTake(rig, card, rig.olena);
    const root = await eventually(() => {
      expect(requestCards(rig)).toHaveLength(0);
      const note = lastNote(rig)!;
      expect(unescape(note.markdown ?? '')).toContain('Olena Bondar took hand-off H-');
      return note;
    });
    expect(unescape(root.markdown ?? '')).toContain('Reply in this thread, mentioning the bot');

    // The person is told who took it, with a button to end the chat.
    await eventually(() => expect(webexSince(rig, room, before)).toContain('Olena Bondar from the support team has joined the chat'));
    const endCard = rig.webex.visible(room.id).filter((m) => m.attachments?.length).at(-1)!;
    expect(JSON.stringify(endCard.attachments)).toContain('End the chat');

    // The person writes: it lands in the card's thread, and the bot adds nothing in the person's room.
    const quiet = rig.webex.posted.filter((m) => m.roomId === room.id).length;
    await rig.webex.userSays(room, person, 'The provisioning email never arrived for order 12345678');
    await eventually(() => expect(thread(rig, root.id)).toContain('Customer: The provisioning email never arrived for order 12345678'));
    expect(webexSince(rig, room, quiet)).toBe('');

    // The engineer answers in the thread (mentioning the bot): the person reads it, with who wrote it.
    await rig.webex.userSays(rig.expertRoom, rig.olena, 'I have resent it to the new contact.', { parentId: root.id });
    await eventually(() => expect(webexSince(rig, room, quiet)).toContain('Olena Bondar (support engineer): I have resent it to the new contact.'));

    // Another engineer's words in the thread do not reach the person.
    await rig.webex.userSays(rig.expertRoom, rig.taras, 'Need a hand?', { parentId: root.id });
    await eventually(() => expect(thread(rig, root.id).at(-1)).toMatch(/is Olena Bondar's chat: only they can write to the customer/));

    // The engineer ends it: the person is asked whether it is solved, and says yes.
    const asked = rig.webex.posted.filter((m) => m.roomId === room.id).length;
    await rig.webex.userSays(rig.expertRoom, rig.olena, 'end', { parentId: root.id });
    await eventually(() => expect(webexSince(rig, room, asked)).toContain('Olena Bondar has ended the chat.'));
    expect(webexSince(rig, room, asked)).toContain('Is your problem solved?');
    await eventually(() => expect(thread(rig, root.id).at(-1)).toContain('Olena Bondar ended the chat.'));
    const question = rig.webex.visible(room.id).filter((m) => m.attachments?.length).at(-1)!;
    const yes = (question.attachments![0]!.content.actions as { title: string; data: Record<string, unknown> }[]).find((a) => a.title === 'Yes, solved')!;
    await rig.webex.userSubmits(room, person, question.id, { ...yes.data });
    await eventually(() => expect(webexSince(rig, room, asked)).toContain("Great, I'm glad it's solved."));

    // The transcript keeps the whole hand-off, the engineer's words included.
    const transcript = (await bot.app.store.loadTranscript(`webex:${room.id}`)).map((e) => `${e.from}: ${e.text}`).join('\n');
    expect(transcript).toContain('user: I want to talk to a person');
    expect(transcript).toContain('user: The provisioning email never arrived for order 12345678');
    expect(transcript).toContain('bot: Olena Bondar (support engineer): I have resent it to the new contact.');
    expect(transcript).toContain('Olena Bondar has ended the chat.');

    // Operators count it: requested, taken (and how long it waited), ended, resolved by a person.
    const metrics = (await bot.app.metrics.render()).body;
    expect(metrics).toContain('pce_bot_handoffs_total{event="requested"} 1');
    expect(metrics).toContain('pce_bot_handoffs_total{event="taken"} 1');
    expect(metrics).toContain('pce_bot_handoffs_total{event="ended"} 1');
    expect(metrics).toContain('pce_bot_handoff_wait_seconds_count 1');
    expect(metrics).toContain('pce_bot_handoffs_resolved 1');
  });
});
