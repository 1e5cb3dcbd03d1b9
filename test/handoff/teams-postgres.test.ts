/**
 * The Teams expert channel on PostgreSQL, two instances (issue 22): the channel an agent chose on
 * one instance is where the other posts requests, and a press on the card, whichever instance gets
 * it, hands the request to the engineer once. See teams.test.ts for why `handoffAgents` is given.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseReply, Person } from '../channels/botframework/harness';
import { dropPostgresSchema, TEST_DATABASE_URL, uniqueName } from '../support';
import { eventually, unescape, useRig } from './rig';
import { OLENA, TeamsChannel } from './teams-channel';

const rig = useRig();
const schema = uniqueName('handoff_teams');
afterAll(() => dropPostgresSchema(schema));

describe('a Teams expert channel shared by two instances on PostgreSQL', () => {
  it('is chosen on one and used by the other', async () => {
    const env = { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, HANDOFF_WEBEX_ROOM_ID: '' };
    const options = { handoffAgents: { isAgent: (u: { id: string }) => u.id === OLENA.id } };
    const a = await rig.start(env, options);
    const b = await rig.start(env, options);
    const channel = new TeamsChannel(rig.connector, a.url);
    const before = channel.cards().length;
    await channel.post(OLENA, { text: '<at>PCE Support</at> use this channel for hand-offs' });
    expect((await b.app.handoffs.spaces.ready()).map((s) => s.name)).toEqual(['teams']);

    const person = new Person(b.url, { channelId: 'msteams', locale: 'en-US', connector: rig.connector });
    await person.say('talk to a person');
    const card = await channel.newCard(before, eventually);
    // The press reaches the other instance than the person's.
    await channel.pressTake(OLENA, card);
    await eventually(() => expect(channel.latest(card).text).toContain('Olena Bondar took hand-off H-'));
    await eventually(() =>
      expect(rig.connector.messagesTo(person.conversationId).filter((s) => unescape(parseReply(s.activity).text).includes('Olena Bondar from the support team has joined'))).toHaveLength(1),
    );
    expect(rig.connector.updates.filter((u) => u.id === card.id)).toHaveLength(1);
  });
});
