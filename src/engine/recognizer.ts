/**
 * Understanding what people type: button values, option numbers, option labels and synonyms in
 * either language (locales/<lng>/recognizer.json), with small typos forgiven. Free-text answers to a
 * step with a trained model go to src/nlu/recogniser.ts first; `recogniseChoice` is the matcher for
 * steps without one.
 * Not `recognizeChoices` from botbuilder-dialogs: that would tie the engine to the archived SDK,
 * which only src/channels/botframework/ may import, and it has no Ukrainian model anyway.
 *
 * How a choice is picked, best first:
 *   1. an option number ("2", "2.", "option 2", "варіант 2");
 *   2. the whole message equals a label or synonym;
 *   3. the whole message equals one with a typo or two ("closd");
 *   4. a label or synonym appears inside the message ("I think it's closed"), word by word with the
 *      same typo tolerance; the longest such phrase wins, so "not found" beats "found". A phrase
 *      right after a negation ("not", "не") does not count unless the phrase itself is negative.
 * Two options matching equally well is no answer: the step asks again.
 */
import { distance } from 'fastest-levenshtein';
import type { Locale } from '../../dialogs/flow';
import type { Resources } from '../i18n';
import { normaliseText, optionNumber } from '../nlu/normalise';

export type Command = 'back' | 'restart' | 'help' | 'language' | 'lang_en' | 'lang_uk' | 'support' | 'triage';

export interface Vocabulary {
  /** choice id -> phrases (all languages merged, normalised). */
  choices: Map<string, string[]>;
  commands: Map<Command, string[]>;
}

/** Words that turn the phrase after them around ("not found", "не працює"). */
const NEGATIONS = new Set([
  'not', 'no', 'never', 'nothing', "don't", 'dont', "didn't", 'didnt', "doesn't", 'doesnt', "isn't", 'isnt', "wasn't",
  "haven't", 'havent', "hasn't", "can't", 'cant', 'cannot', "won't", 'не', 'ні', 'нема', 'немає', 'ніяк',
]);

/** One spelling of a message (src/nlu/normalise.ts): case, apostrophes, look-alike letters, emoji, punctuation. */
export function normalise(text: string, locale: Locale = 'en'): string {
  return normaliseText(text, locale);
}

export function buildVocabulary(resources: Resources): Vocabulary {
  const choices = new Map<string, string[]>();
  const commands = new Map<Command, string[]>();
  for (const lng of Object.keys(resources) as Locale[]) {
    const rec = resources[lng].recognizer as
      | { choices?: Record<string, string[]>; commands?: Record<string, string[]> }
      | undefined;
    for (const [id, phrases] of Object.entries(rec?.choices ?? {})) {
      choices.set(id, [...(choices.get(id) ?? []), ...phrases.map((p) => normalise(p)).filter(Boolean)]);
    }
    for (const [id, phrases] of Object.entries(rec?.commands ?? {})) {
      // "?" normalises to nothing: kept as is so that a lone question mark still asks for help.
      const kept = phrases.map((p) => normalise(p) || p.trim()).filter(Boolean);
      commands.set(id as Command, [...(commands.get(id as Command) ?? []), ...kept]);
    }
  }
  return { choices, commands };
}

/** Words of 4+ letters may carry one typo, of 8+ letters two; shorter words must be exact. */
function fuzzyEqual(a: string, b: string): boolean {
  if (a === b) return true;
  const len = Math.max(a.length, b.length);
  if (len < 4) return false;
  return distance(a, b) <= (len >= 8 ? 2 : 1);
}

const isNegative = (words: string[]) => words.some((w) => NEGATIONS.has(w));

/**
 * Where the phrase occurs in the message (word by word, typo-tolerant) other than right after a
 * negation; returns how many characters it covers (exact matches count a little more), or 0.
 */
function containedScore(textWords: string[], phrase: string): number {
  const words = phrase.split(' ');
  const phraseNegative = isNegative(words);
  let best = 0;
  for (let i = 0; i + words.length <= textWords.length; i++) {
    let exact = true;
    let ok = true;
    for (let j = 0; j < words.length; j++) {
      const t = textWords[i + j]!;
      const p = words[j]!;
      if (t === p) continue;
      if (!fuzzyEqual(t, p)) {
        ok = false;
        break;
      }
      exact = false;
    }
    if (!ok) continue;
    const before = textWords[i - 1];
    if (!phraseNegative && before !== undefined && NEGATIONS.has(before)) continue;
    best = Math.max(best, phrase.length * 2 + (exact ? 1 : 0));
  }
  return best;
}

/** How well the normalised `text` matches `phrase`; higher is better, 0 is no match. */
function score(text: string, textWords: string[], phrase: string): number {
  if (!phrase) return 0;
  if (text === phrase) return 3_000_000;
  if (fuzzyEqual(text, phrase)) return 2_000_000;
  return containedScore(textWords, phrase);
}

/** A command the whole message names; with `typos: false`, only when spelled exactly. */
export function recogniseCommand(vocab: Vocabulary, text: string, opts: { typos?: boolean } = {}): Command | undefined {
  const match = matchCommand(vocab, text, opts);
  return match?.command;
}

/** The command a message names, and whether it was spelled exactly or with a typo. */
export function matchCommand(vocab: Vocabulary, text: string, opts: { typos?: boolean } = {}): { command: Command; exact: boolean } | undefined {
  const n = normalise(text) || text.trim();
  if (!n) return undefined;
  for (const [command, phrases] of vocab.commands) {
    if (phrases.some((p) => p === n)) return { command, exact: true };
  }
  if (opts.typos === false) return undefined;
  // A typo'd command only when the words are not an answer someone could mean ("resent" is not "reset").
  if ([...vocab.choices.values()].some((phrases) => phrases.includes(n))) return undefined;
  for (const [command, phrases] of vocab.commands) {
    if (phrases.some((p) => fuzzyEqual(n, p))) return { command, exact: false };
  }
  return undefined;
}

/**
 * Maps free text to one of `options` (choice ids, in display order), given their translated labels.
 * Returns undefined when nothing matches or two options match equally well.
 */
export function recogniseChoice(
  vocab: Vocabulary,
  text: string,
  options: { id: string; labels: string[] }[],
): string | undefined {
  const n = normalise(text);
  if (!n) return undefined;
  const num = optionNumber(n);
  if (num !== undefined) return options[num - 1]?.id;
  const words = n.split(' ');
  let best: { id: string; score: number } | undefined;
  let tie = false;
  for (const option of options) {
    const phrases = [...option.labels.map((l) => normalise(l)), ...(vocab.choices.get(option.id) ?? [])];
    const s = Math.max(0, ...phrases.map((p) => score(n, words, p)));
    if (s === 0) continue;
    if (!best || s > best.score) {
      best = { id: option.id, score: s };
      tie = false;
    } else if (s === best.score && best.id !== option.id) {
      tie = true;
    }
  }
  return best && !tie ? best.id : undefined;
}
