/**
 * The trained recogniser measured as `npm run nlu:eval` measures it: at least 95 % of the held-out
 * phrasings answered right in each language, and not one wrong route, neither there nor in the
 * ambiguity set (test/nlu/ambiguity.json), where a question back or a re-prompt is always allowed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCALES } from '../../dialogs/flow';
import { loadCorpora } from '../../src/nlu/corpus';
import { accuracy, checkAmbiguity, evaluate, type AmbiguityCase, type Evaluation } from '../../src/nlu/evaluate';
import { Recogniser } from '../../src/nlu/recogniser';
import { translator } from '../dialogs/provisioning-contact/helpers';

const ambiguity = JSON.parse(readFileSync(join(__dirname, 'ambiguity.json'), 'utf8')).cases as AmbiguityCase[];
const train = loadCorpora('train');
const optionsOf = (c: AmbiguityCase) => train.find((t) => t.flow === c.flow && t.step === c.step && t.locale === c.locale)?.options ?? [];

describe('the trained recogniser', () => {
  let recogniser: Recogniser;
  let evaluation: Evaluation;
  beforeAll(() => {
    recogniser = Recogniser.shared(translator.resources);
    evaluation = evaluate(recogniser, loadCorpora('heldout'), translator);
  });

  it.each(LOCALES)('%s: answers at least 95 %% of the held-out phrasings right', (locale) => {
    const score = evaluation.byLocale.get(locale)!;
    expect(score.total).toBeGreaterThanOrEqual(300);
    expect(accuracy(score)).toBeGreaterThanOrEqual(0.95);
  });

  it('routes no held-out phrasing to a wrong option', () => {
    const wrong = evaluation.outcomes
      .filter((o) => o.recognition.kind === 'choice' && o.recognition.choice !== o.expected)
      .map((o) => `${o.locale} ${o.step}: "${o.text}" -> ${o.recognition.kind === 'choice' ? o.recognition.choice : ''}, not ${o.expected}`);
    expect(wrong).toEqual([]);
  });

  it('routes no phrasing of the ambiguity set to an option it may not mean', () => {
    expect(ambiguity.length).toBeGreaterThanOrEqual(100);
    const wrong = checkAmbiguity(recogniser, ambiguity, optionsOf, translator)
      .filter((r) => r.wrong)
      .map((r) => `${r.locale} ${r.step}: "${r.text}" -> ${r.recognition.kind === 'choice' ? r.recognition.choice : ''}`);
    expect(wrong).toEqual([]);
  });

  it('asks back instead of guessing when a message names two options', () => {
    const ask = (locale: 'en' | 'uk', text: string) =>
      recogniser.recognise({ flow: 'provisioning-contact', step: 'entry', locale, text, options: optionsOf({ locale, flow: 'provisioning-contact', step: 'entry', text, allowed: [] }).map((id) => ({ id, labels: [] })) });
    expect(ask('en', 'change it or just check it?')).toMatchObject({ kind: 'clarify' });
    expect(ask('uk', 'змінити чи тільки перевірити?')).toMatchObject({ kind: 'clarify' });
  });

  it('trains every question of both languages at start-up, from files only', () => {
    expect(recogniser.hasModel('provisioning-contact', 'entry')).toBe(true);
    expect(recogniser.hasModel('provisioning-contact', 'verifyUpdate')).toBe(true);
    expect(recogniser.hasModel('support-case', 'summary')).toBe(false);
  });

  it('finds what a message answers at other questions too (for answers that fill several steps)', () => {
    const found = recogniser.scan('provisioning-contact', 'the line is closed', 'en');
    expect(found.map((f) => [f.step, f.choice])).toContainEqual(['orderLineStatus', 'closed']);
  });
});
