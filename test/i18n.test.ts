import { describe, expect, it } from 'vitest';
import { createTranslator, type Resources } from '../src/i18n';

const resources = {
  en: { common: { hello: 'Hello {{name}}', done: 'Done', plural_one: '{{count}} case', plural_other: '{{count}} cases' } },
  uk: { common: { hello: 'Вітаю, {{name}}', done: 'Готово', plural_one: '{{count}} звернення', plural_few: '{{count}} звернення', plural_many: '{{count}} звернень', plural_other: '{{count}} звернення' } },
} as unknown as Resources;

describe('translator', () => {
  it('gives each language its own text for the same key, asked repeatedly', () => {
    const { t } = createTranslator(resources);
    for (let i = 0; i < 3; i++) {
      expect(t('en', 'common:done')).toBe('Done');
      expect(t('uk', 'common:done')).toBe('Готово');
    }
  });

  it('interpolates parameters even after the same key was asked without them', () => {
    const { t } = createTranslator(resources);
    t('en', 'common:hello');
    expect(t('en', 'common:hello', { name: 'Olena' })).toBe('Hello Olena');
    expect(t('uk', 'common:hello', { name: 'Олена' })).toBe('Вітаю, Олена');
    expect(t('uk', 'common:plural', { count: 5 })).toBe('5 звернень');
    expect(t('en', 'common:plural', { count: 1 })).toBe('1 case');
  });

  it('keeps each set of parameters apart when the same key is asked again and again', () => {
    const { t } = createTranslator(resources);
    for (let round = 0; round < 3; round++) {
      for (const count of [1, 2, 5, 21]) {
        expect(t('en', 'common:plural', { count })).toBe(`${count} ${count === 1 ? 'case' : 'cases'}`);
      }
      expect(t('uk', 'common:plural', { count: 2 })).toBe('2 звернення');
      expect(t('uk', 'common:plural', { count: 5 })).toBe('5 звернень');
      expect(t('en', 'common:hello', { name: 'Olena' })).toBe('Hello Olena');
      expect(t('en', 'common:hello', { name: 'Taras' })).toBe('Hello Taras');
      expect(t('uk', 'common:hello', { name: 'Taras' })).toBe('Вітаю, Taras');
    }
  });

  it('still translates correctly after more distinct parameters than it keeps', () => {
    const { t } = createTranslator(resources);
    for (let i = 0; i < 2_500; i++) expect(t('en', 'common:hello', { name: `person ${i}` })).toBe(`Hello person ${i}`);
    expect(t('en', 'common:hello', { name: 'person 0' })).toBe('Hello person 0');
  });
});
