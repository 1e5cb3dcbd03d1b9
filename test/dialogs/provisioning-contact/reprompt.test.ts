/** Unrecognised answers: the re-prompt lists the options again, and the third miss offers support. */
import { describe, expect, it } from 'vitest';
import { conversation, text, useSqliteEngine } from './helpers';

const { engine } = useSqliteEngine();

describe('re-prompt after an answer the bot does not understand', () => {
  it('takes a first message that answers nothing ("hi") as a greeting, not as a miss', async () => {
    const c = conversation(engine, 'en');
    const r = await c.say('hi');
    expect(text(r)).not.toContain("didn't catch that");
    expect(r.step).toBe('entry');
    const greeted = conversation(engine, 'en');
    expect(text(r)).toBe(text(await greeted.greet()));
  });

  it('still understands a first message that answers the first question', async () => {
    const r = await conversation(engine, 'uk').say('лист так і не прийшов');
    expect(r.step).toBe('spamCheck');
  });

  it('lists the options of the step again, numbered, in English', async () => {
    const c = conversation(engine, 'en');
    await c.greet();
    const labels = c.last!.messages[0]!.choices.map((ch) => ch.label);
    const r = await c.say('purple elephants');
    const reprompt = text(r).split('\n\n')[0]!;
    expect(reprompt).toContain("Sorry, I didn't catch that.");
    labels.forEach((label, i) => expect(reprompt).toContain(`${i + 1}) ${label}`));
  });

  it('lists them in Ukrainian and adds “talk to support” on the third miss', async () => {
    const c = conversation(engine, 'uk');
    await c.greet();
    await c.say('фіолетові слони');
    await c.say('ще раз слони');
    const r = await c.say('і знову');
    const reprompt = text(r).split('\n\n')[0]!;
    expect(reprompt).toContain('Вибачте, досі не можу розібрати відповідь.');
    const choices = r.messages[0]!.choices;
    expect(choices.at(-1)!.label).toBe('Звернутися в підтримку');
    choices.forEach((ch, i) => expect(reprompt).toContain(`${i + 1}) ${ch.label}`));
  });
});
