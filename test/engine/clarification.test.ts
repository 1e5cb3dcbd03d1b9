/**
 * Free text through the engine with the trained recogniser: paraphrases and colloquial answers act,
 * two likely answers get a clarifying question with just those two as buttons, and the answer to that
 * question (a press, a typed number, on any instance) is the answer to the step.
 */
import { describe, expect, it } from 'vitest';
import type { Locale } from '../../dialogs/flow';
import { Engine } from '../../src/engine/engine';
import { provisioningContactFlow } from '../../dialogs/provisioning-contact/machine';
import { conversation, text, translator, useSqliteEngine } from '../dialogs/provisioning-contact/helpers';
import { silentLogger } from '../support';

describe('understanding free text (en, uk)', () => {
  const env = useSqliteEngine();

  /** [language, options pressed before, what the person types, the step it leads to]. */
  const acted: [Locale, string[], string, string][] = [
    ['en', [], 'the invite mail never came through', 'spamCheck'],
    ['en', [], 'need someone else as the provisioning contact', 'orderLineStatus'],
    ['en', [], 'i changed it last week, did it go through?', 'verifyUpdate'],
    ['en', ['never_arrived'], 'yeah', 'emailFound'],
    ['en', ['never_arrived'], 'nope', 'orderLineStatus'],
    ['en', ['never_arrived'], '👍', 'emailFound'],
    ['en', ['never_arrived'], '👎', 'orderLineStatus'],
    ['en', ['change_contact'], 'idk', 'lineStatusHelp'],
    ['uk', [], 'лист так і не прилетів', 'spamCheck'],
    ['uk', [], 'в замовленні стоїть чужа адреса', 'orderLineStatus'],
    ['uk', [], 'я вже змінив адресу, чи пройшло?', 'verifyUpdate'],
    ['uk', ['never_arrived'], 'угу', 'emailFound'],
    ['uk', ['never_arrived'], 'ага ж', 'emailFound'],
    ['uk', ['never_arrived'], 'да', 'emailFound'],
    ['uk', ['never_arrived'], 'нєа', 'orderLineStatus'],
    ['uk', ['never_arrived'], 'нi', 'orderLineStatus'], // a Latin i
    ['uk', ['change_contact'], 'хз', 'lineStatusHelp'],
    ['uk', ['change_contact'], 'статус closed', 'closedOrder'],
    ['uk', ['change_contact', 'awaiting'], 'не маю прав, замовлення оформлював колега', 'forwardToOwner'],
  ];

  it.each(acted)('%s, after %j: "%s" leads to %s', async (locale, pressed, said, step) => {
    const c = conversation(env.engine, locale);
    await c.greet();
    for (const id of pressed) await c.press(id);
    expect((await c.say(said)).step).toBe(step);
  });

  it.each([
    ['en', 'change it or just check it?', 'Do you want to change the contact, or check a change you already made?'],
    ['uk', 'змінити чи тільки перевірити?', 'Ви хочете змінити контакт чи перевірити зміну, яку вже зробили?'],
  ] as const)('%s: asks which of two likely answers was meant, with just those two as buttons', async (locale, said, question) => {
    const c = conversation(env.engine, locale);
    await c.greet();
    const r = await c.say(said);
    expect(r.step).toBe('entry');
    expect(text(r)).toBe(question);
    expect(r.messages[0]!.choices.map((x) => x.id).sort()).toEqual(['change_contact', 'check_change']);
    // The press answers the step the question was about.
    expect((await c.press('check_change')).step).toBe('verifyUpdate');
  });

  it('takes a typed number after the clarifying question as one of its two options', async () => {
    const c = conversation(env.engine, 'en');
    await c.greet();
    const asked = await c.say('change it or just check it?');
    const second = asked.messages[0]!.choices[1]!.id;
    const r = await c.say('2');
    expect(r.step).toBe(second === 'check_change' ? 'verifyUpdate' : 'orderLineStatus');
    // Without a question before it, "2" is the step's own option 2.
    const d = conversation(env.engine, 'en');
    await d.greet();
    expect((await d.say('2')).step).toBe('orderLineStatus');
  });

  it('keeps the clarifying question with the conversation: another instance takes the typed answer', async () => {
    const other = new Engine({ store: env.store, flow: provisioningContactFlow, translator, logger: silentLogger, clock: () => new Date('2026-11-25T10:00:00Z') });
    const c = conversation(env.engine, 'uk');
    await c.greet();
    const asked = await c.say('змінити чи тільки перевірити?');
    const first = asked.messages[0]!.choices[0]!.id;
    const conversationId = asked.conversationKey.slice('test:'.length);
    const r = await other.handle({ channel: 'test', conversationId, user: { id: `user-${conversationId}` }, locale: 'uk', text: '1' });
    expect(r.step).toBe(first === 'change_contact' ? 'orderLineStatus' : 'verifyUpdate');
  });

  it('asks again with the whole question when nothing is likely', async () => {
    const c = conversation(env.engine, 'en');
    await c.greet();
    await c.press('never_arrived');
    const r = await c.say('banana');
    expect(r.step).toBe('spamCheck');
    expect(r.messages[0]!.choices.map((x) => x.id)).toEqual(['found', 'not_found']);
  });
});
