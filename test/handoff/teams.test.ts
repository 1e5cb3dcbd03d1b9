/**
 * Talk to a person with the engineers in a Teams channel (issue 22): an agent chooses the channel
 * ("use this channel for hand-offs"); a request is a card posted there as a new post; "Take it" by an
 * agent edits the card in place for everyone; the chat runs in the card's reply chain, both ways;
 * "end" there ends it and the person is asked whether it is solved. The chosen channel survives a
 * restart. Over real HTTP against the fake Bot Framework connector, on SQLite.
 *
 * The fake connector has no token service, so no Teams id is proven here: the app is told who counts
 * as an agent (`handoffAgents`, by Teams id). That only a validated token proves an AAD id is
 * src/channels/botframework/activity.ts's part, tested with the token service in auth.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseReply, Person } from '../channels/botframework/harness';
import { eventually, unescape, useRig, webexSince } from './rig';
import { CHANNEL, OLENA, SAM, TeamsChannel } from './teams-channel';

const rig = useRig();
/** Teams experts only: no Webex space (Webex still carries people's own conversations). */
const TEAMS_ONLY = { HANDOFF_WEBEX_ROOM_ID: '' };
const options = (db: string) => ({ db, handoffAgents: { isAgent: (u: { id: string }) => u.id === OLENA.id } });
const said = (person: Person, from = 0) => rig.connector.messagesTo(person.conversationId).slice(from).map((s) => unescape(parseReply(s.activity).text));

describe('hand-offs in a Teams channel', () => {
  it('an agent chooses the channel, takes a Teams person’s request there and chats in the card’s reply chain', async () => {
    const db = rig.db('teams.sqlite');
    const bot = await rig.start(TEAMS_ONLY, options(db));
    const channel = new TeamsChannel(rig.connector, bot.url);
    expect(await bot.app.handoffs.spaces.ready()).toEqual([]);

    // Someone not in AGENT_IDS cannot choose it; an agent can, in Ukrainian too, and is answered there.
    await channel.post(SAM, { text: '<at>PCE Support</at> use this channel for hand-offs' });
    await channel.post(OLENA, { text: '<at>PCE Support</at> Використовувати цей канал для передачі' });
    const answers = rig.connector.sentTo(CHANNEL).filter((s) => s.inReplyTo).map((s) => unescape(String(s.activity.text)));
    expect(answers).toEqual([
      'Only support engineers listed in AGENT_IDS can choose the channel for hand-offs.',
      'Відтепер запити на розмову з людиною надходитимуть у цей канал.',
    ]);
    expect((await bot.app.handoffs.spaces.ready()).map((s) => s.name)).toEqual(['teams']);

    // A Teams person asks; the request is a new post in the channel: a card with "Take it".
    const person = new Person(bot.url, { channelId: 'msteams', locale: 'en-US', connector: rig.connector });
    await person.join();
    const asked = await person.say('I want to talk to a person');
    expect(unescape(asked.replies.map((r) => r.text).join('\n'))).toContain("I've asked our support engineers to join this chat");
    const card = await channel.newCard(0, eventually);
    const shown = channel.latest(card);
    expect(shown.text).toMatch(/Hand-off request H-[0-9A-F]{6}: a person wants to talk to support/);
    expect(shown.text).toContain('Channel: msteams');
    expect(shown.text).toContain('Language: English');
    expect(shown.choices.map((c) => c.label)).toEqual(['Take it']);

    // A non-agent's press is refused in the chain and changes nothing; an agent's edits the card in place.
    await channel.pressTake(SAM, card);
    expect(channel.chain(card)).toEqual(['Sorry, only support engineers listed in AGENT_IDS can take hand-offs.']);
    expect(rig.connector.updates.filter((u) => u.id === card.id)).toEqual([]);
    const before = rig.connector.messagesTo(person.conversationId).length;
    await channel.pressTake(OLENA, card);
    await eventually(() => expect(channel.latest(card).text).toContain('Olena Bondar took hand-off H-'));
    expect(channel.latest(card).text).toContain('Reply in this thread, mentioning the bot');
    expect(channel.latest(card).choices).toEqual([]);
    await eventually(() => expect(said(person, before).join('\n')).toContain('Olena Bondar from the support team has joined the chat'));

    // The person's words go to the chain; the engineer's reply there (mentioning the bot) goes to the person.
    await person.say('The provisioning email never arrived');
    await eventually(() => expect(channel.chain(card)).toContain('Customer: The provisioning email never arrived'));
    const count = rig.connector.messagesTo(person.conversationId).length;
    await channel.post(OLENA, { thread: card.id, text: '<at>PCE Support</at> Please check the spam folder.' });
    await eventually(() => expect(said(person, count)).toEqual(['Olena Bondar (support engineer): Please check the spam folder.']));

    // Another engineer cannot write to the person through her chat.
    await channel.post(SAM, { thread: card.id, text: '<at>PCE Support</at> hello' });
    expect(channel.chain(card).at(-1)).toMatch(/^Hand-off H-[0-9A-F]{6} is Olena Bondar's chat: only they can write to the customer\.$/);

    // "end" in the chain ends it: the person is asked whether it is solved; the card and the chain say so.
    const ending = rig.connector.messagesTo(person.conversationId).length;
    await channel.post(OLENA, { thread: card.id, text: '<at>PCE Support</at> end' });
    await eventually(() => expect(said(person, ending).join('\n')).toContain('Olena Bondar has ended the chat.'));
    expect(said(person, ending).join('\n')).toContain('Is your problem solved?');
    await eventually(() => expect(channel.latest(card).text).toMatch(/Olena Bondar ended the chat\. Hand-off H-[0-9A-F]{6} is closed\./));
    expect(channel.chain(card).at(-1)).toMatch(/^Olena Bondar ended the chat\. Hand-off H-[0-9A-F]{6} is closed\.$/);
  });

  it('keeps the chosen channel over a restart; a Webex person’s request goes there and the chat crosses channels', async () => {
    const db = rig.db('teams-restart.sqlite');
    const first = await rig.start(TEAMS_ONLY, options(db));
    const channel = new TeamsChannel(rig.connector, first.url);
    await channel.post(OLENA, { text: '<at>PCE Support</at> use this channel for hand-offs' });
    const cardsBefore = channel.cards().length;
    await first.stop();

    const bot = await rig.start(TEAMS_ONLY, options(db));
    channel.reconnect(bot.url);
    const room = rig.webex.room('direct');
    const person = rig.webex.person('Pat Partner', 'pat@partner.example.com');
    await rig.webex.userSays(room, person, 'talk to a person');
    await eventually(() => expect(webexSince(rig, room)).toContain("I've asked our support engineers to join this chat"));
    const card = await channel.newCard(cardsBefore, eventually);
    expect(channel.latest(card).text).toContain('Channel: webex');

    await channel.pressTake(OLENA, card);
    await eventually(() => expect(webexSince(rig, room)).toContain('Olena Bondar from the support team has joined the chat'));
    await rig.webex.userSays(room, person, 'Order 12345678');
    await eventually(() => expect(channel.chain(card)).toContain('Customer: Order 12345678'));
    await channel.post(OLENA, { thread: card.id, text: '<at>PCE Support</at> Found it, resending now.' });
    await eventually(() => expect(webexSince(rig, room)).toContain('Olena Bondar (support engineer): Found it, resending now.'));
  });
});
