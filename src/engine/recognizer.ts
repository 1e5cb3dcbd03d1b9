/**
 * Understanding what people type: button values, option numbers, option labels and synonyms in
 * either language (locales/<lng>/recognizer.json), with small typos forgiven.
 * Not `recognizeChoices` from botbuilder-dialogs: that would tie the engine to the archived SDK,
 * which only src/channels/botframework/ may import, and it has no Ukrainian model anyway.
 */
import { distance } from 'fastest-levenshtein';
import type { Locale } from '../../dialogs/flow';
import type { Resources } from '../i18n';

export type Command = 'back' | 'restart' | 'help' | 'language' | 'lang_en' | 'lang_uk' | 'support' | 'triage';

export interface Vocabulary {
  /** choice id -> phrases (all languages merged, normalised). */
  choices: Map<string, string[]>;
  commands: Map<Command, string[]>;
}

export function normalise(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFC')
    .replace(/[’ʼ`']/g, "'")
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function buildVocabulary(resources: Resources): Vocabulary {
  const choices = new Map<string, string[]>();
  const commands = new Map<Command, string[]>();
  for (const lng of Object.keys(resources) as Locale[]) {
    const rec = resources[lng].recognizer as
      | { choices?: Record<string, string[]>; commands?: Record<string, string[]> }
      | undefined;
    for (const [id, phrases] of Object.entries(rec?.choices ?? {})) {
      choices.set(id, [...(choices.get(id) ?? []), ...phrases.map(normalise)]);
    }
    for (const [id, phrases] of Object.entries(rec?.commands ?? {})) {
      commands.set(id as Command, [...(commands.get(id as Command) ?? []), ...phrases.map(normalise)]);
    }
  }
  return { choices, commands };
}

function fuzzyEqual(a: string, b: string): boolean {
  if (a === b) return true;
  const len = Math.max(a.length, b.length);
  if (len < 4) return false;
  return distance(a, b) <= (len >= 8 ? 2 : 1);
}

/** How well `text` matches `phrase`: 3 exact, 2 typo-tolerant exact, 1 phrase contained in text. */
function score(text: string, phrase: string): number {
  if (!phrase) return 0;
  if (text === phrase) return 3;
  if (fuzzyEqual(text, phrase)) return 2;
  if (` ${text} `.includes(` ${phrase} `)) return 1;
  return 0;
}

export function recogniseCommand(vocab: Vocabulary, text: string): Command | undefined {
  const n = normalise(text);
  if (!n) return undefined;
  for (const [cmd, phrases] of vocab.commands) {
    if (phrases.some((p) => p === n || fuzzyEqual(n, p))) return cmd;
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
  const num = /^(\d{1,2})$/.exec(n);
  if (num) return options[Number(num[1]) - 1]?.id;
  let best: { id: string; score: number } | undefined;
  let tie = false;
  for (const option of options) {
    const phrases = [...option.labels.map(normalise), ...(vocab.choices.get(option.id) ?? [])];
    const s = Math.max(0, ...phrases.map((p) => score(n, p)));
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
