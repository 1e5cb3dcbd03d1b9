/**
 * Exactly once (issue 22): two engineers pressing "Take it" at once get one chat between them, and
 * a restart in the middle of a chat loses nothing: it goes on where it was, both ways.
 */
import { describe, expect, it } from 'vitest';
import { cardIds, eventually, lastNote, newRequestCard, pressTake, thread, unescape, useRig, webexSince } from './rig';

const rig = useRig();

describe('two engineers pressing at once', () => {
  it('gives the chat to one of them; the other is told who has it', async () => {
    const bot = await rig.start();
    const room = rig.webex.room('direct');
    const person = rig.webex.person('Race Person', 'race@partner.example.com');
    const known = cardIds(rig);
    await rig.webex.userSays(room, person, 'talk to a human');
    const card = await newRequestCard(rig, known);

    await Promise.all([pressTake(rig, card, rig.olena), pressTake(rig, card, rig.taras)]);
    const note = await eventually(() => {
      const n = lastNote(rig)!;
      expect(unescape(n.markdown ?? '')).toMatch(/took hand-off H-/);
      return n;
    });
    const winner = unescape(note.markdown ?? '').startsWith('Olena Bondar') ? 'Olena Bondar' : 'Taras Shevchuk';
    await eventually(() => expect(thread(rig, card.id)).toEqual([expect.stringMatching(new RegExp(`^${winner} has already taken hand-off H-[0-9A-F]{6}\\.$`))]));
    // The person is told once, and the request is taken once.
    await eventually(() => expect(webexSince(rig, room)).toContain(`${winner} from the support team has joined the chat`));
    expect(webexSince(rig, room).split('has joined the chat')).toHaveLength(2);
    const stored = await bot.app.handoffs.repository.activeFor(`webex:${room.id}`);
    expect(stored).toMatchObject({ status: 'taken', takenByName: winner });
  });
});

describe('a restart in the middle of a chat', () => {
  it('goes on where it was, both ways', async () => {
    const db = rig.db('restart.sqlite');
    const first = await rig.start({}, { db });
    const room = rig.webex.room('direct');
    const person = rig.webex.person('Restart Person', 'restart@partner.example.com');
    const known = cardIds(rig);
    await rig.webex.userSays(room, person, 'talk to a person');
    const card = await newRequestCard(rig, known);
    await pressTake(rig, card, rig.olena);
    await eventually(() => expect(webexSince(rig, room)).toContain('Olena Bondar from the support team has joined the chat'));
    const root = lastNote(rig)!;
    await first.stop();

    await rig.start({}, { db });
    await rig.webex.userSays(room, person, 'Are you still there?');
    await eventually(() => expect(thread(rig, root.id)).toContain('Customer: Are you still there?'));
    const count = rig.webex.posted.filter((m) => m.roomId === room.id).length;
    await rig.webex.userSays(rig.expertRoom, rig.olena, 'Yes, still here.', { parentId: root.id });
    await eventually(() => expect(webexSince(rig, room, count)).toContain('Olena Bondar (support engineer): Yes, still here.'));
  });
});
