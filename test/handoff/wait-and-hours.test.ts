/**
 * When nobody can talk (issue 22): a request nobody takes within HANDOFF_WAIT_MINUTES is withdrawn
 * from the engineers' space and the person is offered a case with what is known; outside
 * HANDOFF_HOURS the person hears when people are back and goes to the case intake at once. Time is
 * a fake clock the app's engine and hand-off worker share.
 */
import { describe, expect, it } from 'vitest';
import { eventually, lastNote, requestCards, unescape, useRig, webexSince } from './rig';

const rig = useRig();

function fakeClock(iso: string) {
  let now = Date.parse(iso);
  return { clock: () => new Date(now), advance: (minutes: number) => void (now += minutes * 60_000) };
}

describe('the wait limit', () => {
  it('withdraws the request after HANDOFF_WAIT_MINUTES and offers a case with what is known', async () => {
    // Monday 10:00 in Kyiv: open.
    const time = fakeClock('2026-12-07T08:00:00.000Z');
    const bot = await rig.start({ HANDOFF_WAIT_MINUTES: '10', HANDOFF_HOURS: 'Mon-Fri 09:00-18:00 Europe/Kyiv' }, { engine: { clock: time.clock } });
    const room = rig.webex.room('direct');
    const person = rig.webex.person('Wait Person', 'wait@partner.example.com');
    await rig.webex.userSays(room, person, 'talk to a person');
    await eventually(() => expect(requestCards(rig)).toHaveLength(1));
    // The card is posted and recorded before the clock moves (a lease that ran out would post it again).
    await eventually(async () => expect(await bot.app.handoffs.jobs.countPending()).toBe(0));

    // Nine minutes: still waiting.
    time.advance(9);
    expect((await bot.app.handoffs.worker.runOnce()).expired).toBe(0);
    expect(requestCards(rig)).toHaveLength(1);
    const before = rig.webex.posted.filter((m) => m.roomId === room.id).length;

    time.advance(2);
    await eventually(() => expect(webexSince(rig, room, before)).toContain('Sorry, nobody from the support team could join within 10 min.'));
    expect(webexSince(rig, room, before)).toContain("Shall I open a case with what you've already told me?");
    await eventually(() => expect(requestCards(rig)).toHaveLength(0));
    expect(unescape(lastNote(rig)!.markdown ?? '')).toMatch(/Nobody took hand-off H-[0-9A-F]{6} within 10 min; the customer was offered a case\./);

    // "Open a case": the intake asks for what it does not know yet.
    const offer = rig.webex.visible(room.id).filter((m) => m.attachments?.length).at(-1)!;
    const open = (offer.attachments![0]!.content.actions as { title: string; data: Record<string, unknown> }[]).find((a) => a.title === 'Open a case')!;
    const asked = rig.webex.posted.filter((m) => m.roomId === room.id).length;
    await rig.webex.userSubmits(room, person, offer.id, { ...open.data });
    await eventually(() => expect(webexSince(rig, room, asked)).toContain('What is the order number?'));
    expect((await bot.app.metrics.render()).body).toContain('pce_bot_handoffs_total{event="abandoned"} 1');
  });
});

describe('opening hours', () => {
  it('outside them, says when people are back and goes to the case intake, in English and in Ukrainian', async () => {
    // Saturday noon in Kyiv: closed until Monday 09:00.
    const time = fakeClock('2026-12-12T10:00:00.000Z');
    await rig.start({ HANDOFF_HOURS: 'Mon-Fri 09:00-18:00 Europe/Kyiv' }, { engine: { clock: time.clock } });
    const cardsBefore = requestCards(rig).length;
    const room = rig.webex.room('direct');
    const person = rig.webex.person('Weekend Person', 'weekend@partner.example.com');
    await rig.webex.userSays(room, person, 'operator');
    await eventually(() => expect(webexSince(rig, room)).toContain('What is the order number?'));
    expect(webexSince(rig, room)).toContain("Our support engineers are away right now; they're back on Monday at 09:00 (Europe/Kyiv time).");

    const ukRoom = rig.webex.room('direct');
    const ukPerson = rig.webex.person('Вихідна Людина', 'vyhidna@partner.example.com');
    await rig.webex.userSays(ukRoom, ukPerson, 'з людиною, будь ласка');
    await eventually(() => expect(webexSince(rig, ukRoom)).toContain('Який номер замовлення?'));
    expect(webexSince(rig, ukRoom)).toContain('Зараз інженери підтримки не працюють; вони повернуться у понеділок о 09:00 (за часом Europe/Kyiv).');
    expect(requestCards(rig)).toHaveLength(cardsBefore);
  });
});
