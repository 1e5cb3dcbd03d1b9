import { describe, expect, it } from 'vitest';
import type { Locale } from '../../dialogs/flow';
import { buildVocabulary, normalise, recogniseChoice, recogniseCommand } from '../../src/engine/recognizer';
import { conversation, text, translator, useSqliteEngine } from '../dialogs/provisioning-contact/helpers';

const vocab = buildVocabulary(translator.resources);

describe('recogniser units', () => {
  const yesNo = [
    { id: 'found', labels: ['Yes, found it', 'Так, знайшовся'] },
    { id: 'not_found', labels: ["No, it's not there", 'Ні, його там немає'] },
  ];

  it('normalises case, punctuation and apostrophes', () => {
    expect(normalise('  It’s   CLOSED!! ')).toBe("it's closed");
    expect(normalise('admin.webex.com')).toBe('admin webex com');
  });

  it('takes option numbers, also written as "option 2" / "варіант 2", and nothing out of range', () => {
    expect(recogniseChoice(vocab, '2', yesNo)).toBe('not_found');
    expect(recogniseChoice(vocab, 'option 1', yesNo)).toBe('found');
    expect(recogniseChoice(vocab, 'варіант 2', yesNo)).toBe('not_found');
    expect(recogniseChoice(vocab, '3', yesNo)).toBeUndefined();
  });

  it('lets the longer phrase win and does not read a negated phrase as the positive one', () => {
    expect(recogniseChoice(vocab, "I haven't found it", yesNo)).toBe('not_found');
    expect(recogniseChoice(vocab, 'ні, не знайшли', yesNo)).toBe('not_found');
    expect(recogniseChoice(vocab, 'not found', yesNo)).toBe('not_found');
  });

  it('gives no answer when two options match equally well', () => {
    const options = [
      { id: 'a', labels: ['cats'] },
      { id: 'b', labels: ['dogs'] },
    ];
    expect(recogniseChoice(vocab, 'cats or dogs', options)).toBeUndefined();
  });

  it('recognises commands with typos, a lone "?", and never mistakes an answer for a command', () => {
    expect(recogniseCommand(vocab, 'strat over')).toBe('restart');
    expect(recogniseCommand(vocab, '?')).toBe('help');
    expect(recogniseCommand(vocab, 'назад')).toBe('back');
    expect(recogniseCommand(vocab, 'resent')).toBeUndefined(); // "I resent the email", not "reset"
    expect(recogniseCommand(vocab, 'closed')).toBeUndefined();
  });
});

/** [language, options pressed before, what the person types, the step it must lead to]. */
const table: [Locale, string[], string, string][] = [
  ['en', [], 'the email never came', 'spamCheck'],
  ['en', [], 'I need to change it, wrong email', 'orderLineStatus'],
  ['en', [], 'check whether my change went through', 'verifyUpdate'],
  ['en', [], '2', 'orderLineStatus'],
  ['en', [], 'option 3', 'verifyUpdate'],
  ['en', ['never_arrived'], 'yes', 'emailFound'],
  ['en', ['never_arrived'], "no, it's not there", 'orderLineStatus'],
  ['en', ['never_arrived'], "I haven't found it", 'orderLineStatus'],
  ['en', ['change_contact'], "it's closed", 'closedOrder'],
  ['en', ['change_contact'], 'closd', 'closedOrder'],
  ['en', ['change_contact'], 'the line is closd', 'closedOrder'],
  ['en', ['change_contact'], 'pending', 'editAccess'],
  ['en', ['change_contact'], 'Awaiting provisioning details', 'editAccess'],
  ['en', ['change_contact'], 'no idea', 'lineStatusHelp'],
  ['en', ['change_contact', 'not_sure'], "I still can't find it", 'needsCase'],
  ['en', ['change_contact', 'awaiting'], "I don't have access", 'forwardToOwner'],
  ['en', ['change_contact', 'awaiting'], 'yes, I can', 'ponrCheck'],
  ['en', ['change_contact', 'awaiting', 'can_edit'], 'not onboarded yet', 'editSteps'],
  ['en', ['change_contact', 'awaiting', 'can_edit'], "it's onboarded", 'adminPortal'],
  ['en', ['change_contact', 'awaiting', 'can_edit'], "I'm not sure", 'ponrHelp'],
  ['en', ['change_contact', 'awaiting', 'can_edit', 'not_sure'], 'let me try', 'editSteps'],
  ['en', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded'], "it didn't work", 'browserFixes'],
  ['en', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded'], 'it saved', 'verifyUpdate'],
  ['en', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed'], 'cleared the cache', 'retryEdit'],
  ['en', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed'], "I'll try incognito", 'retryEdit'],
  ['en', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed'], 'tried everything', 'needsCase'],
  ['en', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed', 'incognito'], 'still failing', 'browserFixes'],
  ['en', ['change_contact', 'closed', 'can_edit', 'not_onboarded'], 'a pop-up appeared', 'adminPortal'],
  ['en', ['check_change'], "yes, it's updated", 'changeConfirmed'],
  ['en', ['never_arrived'], 'banana', 'spamCheck'],
  ['uk', [], 'лист так і не прийшов', 'spamCheck'],
  ['uk', [], 'треба змінити адресу', 'orderLineStatus'],
  ['uk', [], 'перевірити', 'verifyUpdate'],
  ['uk', ['never_arrived'], 'так', 'emailFound'],
  ['uk', ['never_arrived'], 'ні', 'orderLineStatus'],
  ['uk', ['never_arrived'], 'ні, не знайшли', 'orderLineStatus'],
  ['uk', ['change_contact'], 'закрите', 'closedOrder'],
  ['uk', ['change_contact'], 'замовлення закрито', 'closedOrder'],
  ['uk', ['change_contact'], 'закрте', 'closedOrder'],
  ['uk', ['change_contact'], "it's closed", 'closedOrder'],
  ['uk', ['change_contact'], 'очікує', 'editAccess'],
  ['uk', ['change_contact'], 'не знаю', 'lineStatusHelp'],
  ['uk', ['change_contact', 'not_sure'], 'не можу знайти', 'needsCase'],
  ['uk', ['change_contact', 'awaiting'], 'не маю доступу', 'forwardToOwner'],
  ['uk', ['change_contact', 'awaiting'], 'так, можу', 'ponrCheck'],
  ['uk', ['change_contact', 'awaiting', 'can_edit'], 'ще ні', 'editSteps'],
  ['uk', ['change_contact', 'awaiting', 'can_edit'], 'вже підключено', 'adminPortal'],
  ['uk', ['change_contact', 'awaiting', 'can_edit'], 'не впевнений', 'ponrHelp'],
  ['uk', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded'], 'не вийшло', 'browserFixes'],
  ['uk', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded'], 'збереглося', 'verifyUpdate'],
  ['uk', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed'], 'почистив кеш', 'retryEdit'],
  ['uk', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed'], 'режим інкогніто', 'retryEdit'],
  ['uk', ['change_contact', 'awaiting', 'can_edit', 'not_onboarded', 'failed'], 'нічого не допомагає', 'needsCase'],
  ['uk', ['change_contact', 'closed', 'can_edit', 'not_onboarded'], 'вискочило спливне вікно', 'adminPortal'],
  ['uk', ['check_change'], 'оновлено', 'changeConfirmed'],
  ['uk', ['check_change'], 'ні, його немає', 'orderLineStatus'],
  ['uk', ['never_arrived'], 'банан', 'spamCheck'],
];

describe('free text through the engine', () => {
  const { engine } = useSqliteEngine();

  it.each(table)('%s, after %j: "%s" leads to %s', async (locale, pressed, said, step) => {
    const c = conversation(engine, locale);
    await c.greet();
    for (const id of pressed) await c.press(id);
    const r = await c.say(said);
    expect(r.step).toBe(step);
  });

  it('re-prompts an unrecognised answer with the options listed, in the person\'s language', async () => {
    const c = conversation(engine, 'uk');
    await c.greet();
    await c.press('never_arrived');
    const r = await c.say('банан');
    expect(text(r)).toContain('Вибачте, не зрозумів');
    expect(r.messages[0]!.choices.map((x) => x.label)).toEqual(['Так, знайшовся', 'Ні, його там немає']);
  });
});
