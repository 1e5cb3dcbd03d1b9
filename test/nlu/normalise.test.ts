/** One spelling before recognition: look-alike letters, apostrophes, emoji, numbers with № or #. */
import { describe, expect, it } from 'vitest';
import { normaliseText, optionNumber } from '../../src/nlu/normalise';
import { wordsOf } from '../../src/nlu/features';

describe('normalising a message', () => {
  it('writes a Latin letter inside a Cyrillic word in Cyrillic, and the reverse', () => {
    expect(normaliseText('нi', 'uk')).toBe('ні'); // Latin i
    expect(normaliseText('НI', 'en')).toBe('ні');
    expect(normaliseText('закрытo', 'uk')).toBe('закрыто'); // Latin o
    expect(normaliseText('clоsed', 'uk')).toBe('closed'); // Cyrillic о
    // "ok" with a Cyrillic о: either script is a word of the conversation's language.
    expect(normaliseText('оk', 'en')).toBe('ok');
    expect(normaliseText('оk', 'uk')).toBe('ок');
  });

  it('leaves words in one script alone', () => {
    expect(normaliseText('Closed', 'uk')).toBe('closed');
    expect(normaliseText('Ні', 'en')).toBe('ні');
  });

  it('reads every apostrophe as one, and Ukrainian words with or without it as the same word', () => {
    const spellings = ["прив'язано", 'привʼязано', 'прив’язано', 'прив`язано', 'привязано'];
    expect(new Set(spellings.map((s) => wordsOf(s, 'uk').join(' ')))).toEqual(new Set(['привязано']));
    expect(normaliseText('it’s closed')).toBe("it's closed");
  });

  it('expands English contractions typed with or without the apostrophe', () => {
    expect(wordsOf("didn't work", 'en')).toEqual(['did', 'not', 'work']);
    expect(wordsOf('didnt work', 'en')).toEqual(['did', 'not', 'work']);
    expect(wordsOf('cant edit', 'en')).toEqual(['can', 'not', 'edit']);
  });

  it('reads 👍 and 👎 (any skin tone) as yes and no words', () => {
    expect(normaliseText('👍')).toBe('emojiyes');
    expect(normaliseText('👍🏽')).toBe('emojiyes');
    expect(normaliseText('👎')).toBe('emojino');
  });

  it('reads "не та", "не тому" as "wrong", not as a negation', () => {
    expect(wordsOf('не та адреса', 'uk')).toEqual(['неправильний', 'адреса']);
    expect(wordsOf('лист пішов не тому', 'uk')).toEqual(['лист', 'пішов', 'неправильний']);
  });

  it('takes an option number written with №, #, a dot, a bracket, a word or as an ordinal', () => {
    for (const text of ['2', '2.', '2)', '№2', '№ 2', '#2', 'option 2', 'варіант 2', 'the second one', 'другий', '2й']) {
      expect(optionNumber(normaliseText(text)), text).toBe(2);
    }
    expect(optionNumber(normaliseText('2 browsers'))).toBeUndefined();
  });
});
