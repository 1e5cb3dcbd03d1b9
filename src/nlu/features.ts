/**
 * Words to features: tokens in one spelling, stemmed by NLP.js's Ukrainian or English stemmer by the
 * token's own script (a Ukrainian sentence may hold "closed", an English one "закрите"), negation
 * scope ("не знайшли" is not "знайшли"), neighbouring stems, and character trigrams that forgive
 * typos ("onborded", "закрте").
 */
import { distance } from 'fastest-levenshtein';
import { StemmerEn } from '@nlpjs/lang-en-min';
import { StemmerUk } from '@nlpjs/lang-uk';
import type { Locale } from '../../dialogs/flow';
import { normaliseText } from './normalise';

/** English contractions, with and without the apostrophe, as their words (negations matter). */
const CONTRACTIONS: Record<string, string> = {
  "can't": 'can not', cant: 'can not', cannot: 'can not', "won't": 'will not', wont: 'will not',
  "n't": ' not', "i'm": 'i am', im: 'i am', "i've": 'i have', ive: 'i have', "it's": 'it is', "that's": 'that is',
  "i'll": 'i will', "there's": 'there is', "what's": 'what is', "isn't": 'is not', "wasn't": 'was not',
};
const NT = /^([a-z]+)n'?t$/;
const NT_WORDS = new Set(['don', 'doesn', 'didn', 'isn', 'wasn', 'aren', 'weren', 'haven', 'hasn', 'hadn', 'couldn', 'wouldn', 'shouldn', 'ain']);

/**
 * Words after which the next few words are negated. Ukrainian, English, and the Russian-influenced
 * spellings people in Ukraine type ("нет", "нету", "ничего").
 */
const NEGATORS = new Set([
  'not', 'no', 'never', 'nothing', 'none', 'nobody', 'nowhere', 'without', 'nope', 'neither', 'nor',
  'не', 'ні', 'нi', 'нє', 'нема', 'немає', 'нема', 'нічого', 'ніде', 'ніхто', 'ніяк', 'без', 'ані', 'жоден', 'жодного', 'жодних',
  'нет', 'нету', 'ничего', 'нигде', 'ни', 'неа', 'нєа',
]);
/** How many words after a negator it reaches. */
const NEGATION_REACH = 3;

/**
 * "не та адреса", "не тому", "не туди", "не тот": in Ukrainian (and Russian) "not that one" means
 * "wrong". Read as one word, "неправильний", so it is not the negation that "лист не прийшов" carries.
 */
const THAT_ONE = new Set(['той', 'та', 'те', 'ті', 'того', 'тому', 'тій', 'ту', 'тих', 'тим', 'туди', 'тот', 'туда', 'тем', 'тех']);

/** Russian letters and other spellings of the same Ukrainian sound, as the corpus writes them. */
function ukSpelling(word: string): string {
  return word.replace(/ґ/g, 'г').replace(/ы/g, 'и').replace(/[эё]/g, 'е').replace(/ъ/g, '');
}

const CYRILLIC = /\p{Script=Cyrillic}/u;

/** Stems by script, kept per word (bounded: a flood of new words must not grow memory). */
class Stemmers {
  private readonly uk = new StemmerUk();
  private readonly en = new StemmerEn();
  private readonly cache = new Map<string, string>();
  private static readonly LIMIT = 50_000;

  stem(word: string): string {
    let s = this.cache.get(word);
    if (s !== undefined) return s;
    if (/^\d+$/.test(word) || word.length < 3) s = word;
    else {
      const stemmer = CYRILLIC.test(word) ? this.uk : this.en;
      // innerStem directly: stemWord keeps its own unbounded cache of every word it sees.
      stemmer.setCurrent(word);
      stemmer.innerStem();
      s = stemmer.getCurrent() || word;
    }
    if (this.cache.size >= Stemmers.LIMIT) this.cache.clear();
    this.cache.set(word, s);
    return s;
  }
}
const stemmers = new Stemmers();

/** The words of a message, normalised, contractions expanded, apostrophes dropped inside words. */
export function wordsOf(text: string, locale: Locale): string[] {
  const out: string[] = [];
  for (const raw of normaliseText(text, locale).split(' ')) {
    if (!raw) continue;
    const expanded = CONTRACTIONS[raw];
    if (expanded) {
      out.push(...expanded.trim().split(' '));
      continue;
    }
    const nt = NT.exec(raw.replace(/'/g, ''));
    if (nt && NT_WORDS.has(`${nt[1]}n`)) {
      out.push(nt[1]!, 'not');
      continue;
    }
    const word = raw.replace(/'/g, '');
    const spelt = CYRILLIC.test(word) ? ukSpelling(word) : word;
    if (THAT_ONE.has(spelt) && out.at(-1) === 'не') out[out.length - 1] = 'неправильний';
    else out.push(spelt);
  }
  return out;
}

export type Features = Map<string, number>;

export interface FeatureOptions {
  /** Weight of character trigrams relative to whole stems. */
  charWeight: number;
  bigramWeight: number;
  negationWeight: number;
}

export const DEFAULT_FEATURES: FeatureOptions = { charWeight: 0.35, bigramWeight: 0.6, negationWeight: 1 };

function add(f: Features, key: string, w: number): void {
  f.set(key, (f.get(key) ?? 0) + w);
}

/** The stems of a message, in order. */
export function stemsOf(text: string, locale: Locale): string[] {
  return wordsOf(text, locale).map((w) => stemmers.stem(w));
}

/**
 * The words a model was trained on: a word it has not seen is read as the seen word one typo away
 * (4+ letters; two typos from 8 letters: "nahh", "clsed", "фаєрфокс"), as NLP.js's spell check does
 * with its features.
 */
export class KnownWords {
  private readonly stems = new Set<string>();
  /** length -> word -> how often it was seen */
  private readonly byLength = new Map<number, Map<string, number>>();

  add(text: string, locale: Locale): void {
    for (const word of wordsOf(text, locale)) {
      this.stems.add(stemmers.stem(word));
      let words = this.byLength.get(word.length);
      if (!words) this.byLength.set(word.length, (words = new Map()));
      words.set(word, (words.get(word) ?? 0) + 1);
    }
  }

  /** The word itself when its stem was seen, else the closest seen word (the most frequent on a tie), else undefined. */
  correct(word: string): string | undefined {
    if (this.stems.has(stemmers.stem(word))) return word;
    if (word.length < 4 || /^\d+$/.test(word)) return undefined;
    const max = word.length >= 8 ? 2 : 1;
    let best: { word: string; d: number; n: number } | undefined;
    for (let len = word.length - max; len <= word.length + max; len++) {
      for (const [known, n] of this.byLength.get(len) ?? []) {
        const d = distance(word, known);
        if (d > max) continue;
        if (!best || d < best.d || (d === best.d && n > best.n)) best = { word: known, d, n };
      }
    }
    return best?.word;
  }
}

/** Sparse features of a message (see the file comment). */
export function featuresOf(text: string, locale: Locale, opts: FeatureOptions = DEFAULT_FEATURES): Features {
  return featuresOfWords(wordsOf(text, locale), opts);
}

/** Sparse features of a message's words (./features.ts wordsOf, perhaps spell-corrected). */
export function featuresOfWords(words: string[], opts: FeatureOptions = DEFAULT_FEATURES): Features {
  const f: Features = new Map();
  let negatedFor = 0;
  let prev: string | undefined;
  for (const word of words) {
    const stem = stemmers.stem(word);
    add(f, `w:${stem}`, 1);
    if (negatedFor > 0 && !NEGATORS.has(word)) {
      add(f, `n:${stem}`, opts.negationWeight);
      negatedFor--;
    }
    if (NEGATORS.has(word)) negatedFor = NEGATION_REACH;
    if (prev !== undefined) add(f, `b:${prev}_${stem}`, opts.bigramWeight);
    prev = stem;
    if (opts.charWeight > 0 && word.length >= 4) {
      const padded = `^${word}$`;
      for (let i = 0; i + 3 <= padded.length; i++) add(f, `c:${padded.slice(i, i + 3)}`, opts.charWeight);
    }
  }
  return f;
}
