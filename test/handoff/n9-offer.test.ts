/**
 * The guide's N9 offers a person (issue 22): during opening hours "talk to a person" beside "open a
 * case"; outside them, when people are back and a case. Over real HTTP against the fake Webex API,
 * with the app's clock faked; in both languages.
 */
import { describe, expect, it } from 'vitest';
import type { FakePerson, FakeRoom } from '../channels/webex/fake-webex';
import { cardIds, cardText, eventually, requestCards, useRig, webexSince } from './rig';

const rig = useRig();

const clockAt = (iso: string) => () => new Date(iso);
/** Monday 10:00 and Saturday noon in Kyiv. */
const OPEN = clockAt('2026-12-07T08:00:00.000Z');
const CLOSED = clockAt('2026-12-12T10:00:00.000Z');
const HOURS = { HANDOFF_HOURS: 'Mon-Fri 09:00-18:00 Europe/Kyiv' };

/** The person answers by the options' numbers, each once the question before was put. */
async function walkToN9(room: FakeRoom, person: FakePerson, prompts: string[]): Promise<number> {
  await rig.webex.userSays(room, person, prompts === UK_PROMPTS ? 'мова українська' : 'hi');
  for (const [i, answer] of ['2', '3', '3'].entries()) {
    await eventually(() => expect(webexSince(rig, room)).toContain(prompts[i]));
    await rig.webex.userSays(room, person, answer);
  }
  return rig.webex.posted.filter((m) => m.roomId === room.id).length;
}

/** The person presses the button titled `title` on the newest card in their room. */
async function press(room: FakeRoom, person: FakePerson, title: string): Promise<void> {
  const card = rig.webex.visible(room.id).filter((m) => m.attachments?.length).at(-1)!;
  const actions = card.attachments![0]!.content.actions as { title: string; data: Record<string, unknown> }[];
  const action = actions.find((a) => a.title === title);
  expect(action, `"${title}" among ${actions.map((a) => a.title).join(', ')}`).toBeDefined();
  await rig.webex.userSubmits(room, person, card.id, { ...action!.data });
}

const buttons = (room: FakeRoom): string[] => {
  const card = rig.webex.visible(room.id).filter((m) => m.attachments?.length).at(-1)!;
  return (card.attachments![0]!.content.actions as { title: string }[]).map((a) => a.title);
};

const EN_PROMPTS = ['What do you need?', 'What is the status', 'What is the status'];
const UK_PROMPTS = ['Чим можу допомогти?', 'Який статус', 'Який статус'];

describe('N9 during opening hours', () => {
  it('en: offers a person beside a case; "Talk to a person" posts the request with the decision trail', async () => {
    await rig.start(HOURS, { engine: { clock: OPEN } });
    const room = rig.webex.room('direct');
    const person = rig.webex.person('Nina Nine', 'nina@partner.example.com');
    const at = await walkToN9(room, person, EN_PROMPTS);
    await eventually(() => expect(webexSince(rig, room, at)).toContain('Our support engineers are online now. Would you like to talk to one here in the chat, or open a case?'));
    expect(buttons(room)).toEqual(expect.arrayContaining(['Talk to a person', 'Open a case']));

    await press(room, person, 'Talk to a person');
    await eventually(() => expect(webexSince(rig, room, at)).toContain("I've asked our support engineers to join this chat."));
    const card = await eventually(() => {
      const cards = requestCards(rig);
      expect(cards).toHaveLength(1);
      return cards[0]!;
    });
    expect(cardText(card)).toContain('Language: English');
    expect(cardText(card)).toContain('Why: the order line status was not found in CCW');
    expect(cardText(card)).toContain('3. lineStatusHelp: cant_find');
  });

  it('uk: "Створити звернення" goes to the case intake with what is known, and no request is posted', async () => {
    await rig.start(HOURS, { engine: { clock: OPEN } });
    const room = rig.webex.room('direct');
    const person = rig.webex.person('Ніна Дев’ята', 'nina.uk@partner.example.com');
    const cards = cardIds(rig);
    const at = await walkToN9(room, person, UK_PROMPTS);
    await eventually(() => expect(webexSince(rig, room, at)).toContain('Інженери підтримки зараз на зв’язку.'));
    expect(buttons(room)).toEqual(expect.arrayContaining(['Поговорити з людиною', 'Створити звернення']));

    await press(room, person, 'Створити звернення');
    await eventually(() => expect(webexSince(rig, room, at)).toContain('Який номер замовлення?'));
    expect(cardIds(rig)).toEqual(cards);
  });
});

describe('N9 outside opening hours', () => {
  it('en and uk: says when people are back and offers a case, which goes to the intake', async () => {
    await rig.start(HOURS, { engine: { clock: CLOSED } });
    const room = rig.webex.room('direct');
    const person = rig.webex.person('Sat Urday', 'sat@partner.example.com');
    const cards = cardIds(rig);
    const at = await walkToN9(room, person, EN_PROMPTS);
    await eventually(() => expect(webexSince(rig, room, at)).toContain("Our support engineers are away right now; they're back on Monday at 09:00 (Europe/Kyiv time)."));
    expect(buttons(room)).toContain('Open a case');
    expect(buttons(room)).not.toContain('Talk to a person');
    // "back" returns to the guide's last question; answering it again comes back here.
    const beforeBack = rig.webex.posted.filter((m) => m.roomId === room.id).length;
    await rig.webex.userSays(room, person, 'back');
    await eventually(() => expect(webexSince(rig, room, beforeBack)).toContain('Which status does the line show?'));
    await rig.webex.userSays(room, person, '3');
    await eventually(() => expect(webexSince(rig, room, beforeBack + 1)).toContain("they're back on Monday at 09:00"));
    await press(room, person, 'Open a case');
    await eventually(() => expect(webexSince(rig, room, at)).toContain('What is the order number?'));

    const ukRoom = rig.webex.room('direct');
    const ukPerson = rig.webex.person('Субота Людина', 'subota@partner.example.com');
    const ukAt = await walkToN9(ukRoom, ukPerson, UK_PROMPTS);
    await eventually(() => expect(webexSince(rig, ukRoom, ukAt)).toContain('Зараз інженери підтримки не працюють; вони повернуться у понеділок о 09:00 (за часом Europe/Kyiv).'));
    await press(ukRoom, ukPerson, 'Створити звернення');
    await eventually(() => expect(webexSince(rig, ukRoom, ukAt)).toContain('Який номер замовлення?'));
    expect(cardIds(rig)).toEqual(cards);
  });
});
