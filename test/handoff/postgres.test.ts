/**
 * Two bot instances on one PostgreSQL database (issue 22): two engineers taking the same request
 * on different instances at once get it exactly once, and what follows (the card, the person told,
 * the messages) is done once, by whichever instance's worker gets there.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Expert } from '../../src/handoff';
import { dropPostgresSchema, TEST_DATABASE_URL, uniqueName } from '../support';
import { cardIds, eventually, lastNote, newRequestCard, thread, unescape, useRig, webexSince } from './rig';

const rig = useRig();
const schema = uniqueName('handoff');
afterAll(() => dropPostgresSchema(schema));

const engineer = (name: string, email: string): Expert => ({
  user: { id: email, verified: [{ scheme: 'email', value: email }] },
  key: `webex:${email}`,
  name,
  space: 'webex',
});

describe('two instances on PostgreSQL', () => {
  it('give a request to one engineer, and tell and relay everything once', async () => {
    const env = { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema };
    const a = await rig.start(env);
    // The Webex notifications go to the instance started last; both instances' workers run.
    const b = await rig.start(env);
    const room = rig.webex.room('direct');
    const person = rig.webex.person('Two Instances', 'two@partner.example.com');
    const known = cardIds(rig);
    await rig.webex.userSays(room, person, 'talk to a person');
    await newRequestCard(rig, known);
    const request = (await b.app.handoffs.repository.activeFor(`webex:${room.id}`))!;

    const answers = await Promise.all([
      a.app.handoffs.desk.take(request.id, engineer('Olena Bondar', 'olena@support.example.com')),
      b.app.handoffs.desk.take(request.id, engineer('Taras Shevchuk', 'taras@support.example.com')),
    ]);
    expect(answers.filter((x) => x === undefined)).toHaveLength(1);
    expect(answers.find((x) => x !== undefined)).toMatch(/^(Olena Bondar|Taras Shevchuk) has already taken hand-off H-[0-9A-F]{6}\.$/);
    const winner = (await a.app.handoffs.repository.find(request.id))!.takenByName!;

    await eventually(() => expect(webexSince(rig, room)).toContain(`${winner} from the support team has joined the chat`));
    const root = await eventually(() => {
      const note = lastNote(rig)!;
      expect(unescape(note.markdown ?? '')).toContain(`${winner} took hand-off`);
      return note;
    });
    await rig.webex.userSays(room, person, 'One message, once.');
    await eventually(() => expect(thread(rig, root.id)).toContain('Customer: One message, once.'));
    await eventually(async () => expect(await a.app.handoffs.jobs.countPending()).toBe(0));
    expect(webexSince(rig, room).split('has joined the chat')).toHaveLength(2);
    expect(thread(rig, root.id).filter((t) => t === 'Customer: One message, once.')).toHaveLength(1);
  });
});
