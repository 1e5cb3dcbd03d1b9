/**
 * What a message looks like before anything tries to understand it: one form for the many ways the
 * same words reach us. Lower case, NFC; apostrophe look-alikes (ʼ ’ ‘ ` ´) as one; a Latin letter
 * inside a Cyrillic word ("нi" with a Latin i) and the reverse ("ok" with a Cyrillic о) written in
 * the word's own script; 👍/👎 as yes/no words; "№ 2", "#2", "2)" as a plain number.
 * Used by the exact paths (src/engine/recognizer.ts) and by the trained model (./features.ts).
 */
import type { Locale } from '../../dialogs/flow';

/** Every apostrophe people (and phone keyboards) type, as the one the corpus uses. */
const APOSTROPHES = /[’ʼ‘`´′ꞌ＇]/g;

/**
 * Lower-case letters that look alike in both scripts, Latin -> Cyrillic. The usual source is a
 * keyboard layout without "і" (a Latin i in "нi") or a layout switched mid-word ("оk"). Upper-case
 * look-alikes (H/Н, B/В, M/М, T/Т) are different letters once lower-cased, so they are not here.
 */
const LATIN_TO_CYRILLIC: Record<string, string> = { a: 'а', c: 'с', e: 'е', i: 'і', k: 'к', o: 'о', p: 'р', x: 'х', y: 'у' };
const CYRILLIC_TO_LATIN: Record<string, string> = Object.fromEntries(Object.entries(LATIN_TO_CYRILLIC).map(([l, c]) => [c, l]));

/**
 * Emoji that answer a yes/no question, as words every language's corpus holds ("emojiyes"). Skin
 * tones and variation selectors are dropped first.
 */
const EMOJI_WORDS: [RegExp, string][] = [
  [/(?:👍|👌|✅|✔|☑|🆗|🙆)/gu, ' emojiyes '],
  [/(?:👎|❌|✖|🚫|⛔|🙅|❎)/gu, ' emojino '],
  [/🤷/gu, ' emojiunsure '],
];
const EMOJI_MODIFIERS = /[\u{1F3FB}-\u{1F3FF}\u{FE0E}\u{FE0F}\u{200D}\u{2640}\u{2642}]/gu;

const CYRILLIC = /\p{Script=Cyrillic}/u;
const LATIN = /\p{Script=Latin}/u;

/**
 * A word typed in two scripts at once, written in one: the script whose every letter has a look-alike
 * in the other gives way; when both could, the word's majority wins, and on a tie the conversation's.
 */
function oneScript(word: string, locale: Locale): string {
  let cyr = 0;
  let lat = 0;
  for (const ch of word) {
    if (CYRILLIC.test(ch)) cyr++;
    else if (LATIN.test(ch)) lat++;
  }
  if (cyr === 0 || lat === 0) return word;
  const chars = [...word];
  const latinCanGo = chars.every((ch) => !LATIN.test(ch) || ch in LATIN_TO_CYRILLIC);
  const cyrillicCanGo = chars.every((ch) => !CYRILLIC.test(ch) || ch in CYRILLIC_TO_LATIN);
  let toCyrillic: boolean;
  if (latinCanGo && cyrillicCanGo) toCyrillic = cyr > lat || (cyr === lat && locale === 'uk');
  else if (latinCanGo) toCyrillic = true;
  else if (cyrillicCanGo) toCyrillic = false;
  else return word;
  const map = toCyrillic ? LATIN_TO_CYRILLIC : CYRILLIC_TO_LATIN;
  return chars.map((ch) => map[ch] ?? ch).join('');
}

/**
 * The message as the recogniser reads it: lower case, one apostrophe, one script per word, emoji as
 * words, "№" and "#" as spaces, punctuation as spaces, single spaces. Apostrophes inside words are
 * kept here (English "don't"); ./features.ts drops them where the spelling varies.
 */
export function normaliseText(text: string, locale: Locale = 'en'): string {
  let t = text.normalize('NFC').toLowerCase().replace(EMOJI_MODIFIERS, '');
  for (const [re, word] of EMOJI_WORDS) t = t.replace(re, word);
  t = t
    .replace(APOSTROPHES, "'")
    .replace(/[№#]/g, ' ')
    .replace(/[^\p{L}\p{M}\p{N}' ]+/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, '$1');
  return t
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => oneScript(w, locale))
    .join(' ');
}

const ORDINALS: Record<string, number> = {
  first: 1, second: 2, third: 3, fourth: 4, '1st': 1, '2nd': 2, '3rd': 3, '4th': 4,
  перший: 1, перша: 1, перше: 1, другий: 2, друга: 2, друге: 2, третій: 3, третя: 3, третє: 3, четвертий: 4, четверта: 4, четверте: 4,
};

/**
 * The option number a message names on its own ("2", "2.", "№2", "option 2", "варіант 2", "the
 * second one", "другий"), or undefined. Range is the caller's business (item 7 of issue 16 names an
 * out-of-range number as such).
 */
export function optionNumber(normalised: string): number | undefined {
  const words = normalised.split(' ').filter((w) => !['option', 'number', 'no', 'the', 'one', 'варіант', 'номер', 'пункт'].includes(w));
  if (words.length !== 1) return undefined;
  const word = words[0]!;
  const digits = /^(\d{1,2})(?:й|ий|а|е|ша|га)?$/.exec(word);
  if (digits) return Number(digits[1]);
  return ORDINALS[word];
}
