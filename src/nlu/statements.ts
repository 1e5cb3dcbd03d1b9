/**
 * A message cut into the statements it makes, for answers that fill more than one step (issue 16,
 * "the provisioning email never arrived, they checked spam already, the line says Closed"): each
 * statement is read on its own at every question (Recogniser.scanMessage), because one model asked
 * about a whole message of three statements weighs them together and picks whichever wins.
 *
 * Statements end at sentence punctuation, a bracket or a dash between words. Inside one, two words
 * split further:
 * - "or" / "but" (and their Ukrainian forms): "was awaiting but now it's closed" is two statements
 *   that may disagree, which is what makes it a question back. Not after a negation: "not in spam
 *   or junk", "нема ні в спамі, ні в junk" is one statement.
 * - "and" / "і" / "та" / "а": "it never arrived and it isn't in spam"; only after two words and
 *   before three or more ("spam and junk", "у спамі й фільтрах перевірили" are one thing), never in
 *   "так і не" ("never").
 * A statement that starts with one of these words ("…, and the line says Closed") is read without it.
 */
import type { Locale } from '../../dialogs/flow';
import { normalise } from '../engine/recognizer';

const STATEMENT_END = /[.,;:!?…()[\]\n]+|\s[-–—]+|[-–—]+\s/u;

/** "or", "but": sides that may disagree. Not "не знаю, чи…" ("whether"). */
const EITHER = /(?:^|\s)(?:or|but|though|however|або|или|(?<!(?:^|\s)(?:знаю|знає|впевнений|впевнена|певен|певна|ясно)\s)чи|але|однак|проте|зате|но)(?=\s|$)/g;

/** "and": sides that add up. Not "так і не" ("never") nor "не та" ("the wrong one"). */
const BOTH = /(?:^|\s)(?:and|also|plus|(?<!(?:^|\s)так\s)[ій]|(?<!(?:^|\s)не\s)та|а|и)(?=\s|$)/g;

/** A negation before "or" makes it a list of places where something is not ("not in spam or junk"). */
const NEGATION = /(?:^|\s)(?:not|no|nothing|never|neither|nor|isn't|wasn't|didn't|haven't|hasn't|don't|can't|не|ні|нема|немає|нічого|ніде|ані|нет)(?=\s|$)/;

/** The joining word a statement may start with. */
const LEADING_JOIN = /^(?:and|or|but|also|plus|so|і|й|та|а|або|але|тож|ще)\s+/;

const wordCount = (s: string): number => s.split(' ').filter(Boolean).length;

/** `text` split at every match of `at` for which `splits(before, after)` holds. */
function splitWhere(text: string, at: RegExp, splits: (before: string, after: string) => boolean): string[] {
  const out: string[] = [];
  let from = 0;
  for (const m of text.matchAll(at)) {
    const end = m.index + m[0].length;
    if (!splits(text.slice(from, m.index), text.slice(end))) continue;
    out.push(text.slice(from, m.index));
    from = end;
  }
  out.push(text.slice(from));
  return out;
}

/** The statements of a message, each normalised (src/nlu/normalise.ts), empty ones left out. */
export function statementsOf(text: string, locale: Locale): string[] {
  return text
    .split(STATEMENT_END)
    .map((part) => normalise(part, locale))
    .filter(Boolean)
    .flatMap((part) => splitWhere(part, EITHER, (before) => before.trim() !== '' && !NEGATION.test(before)))
    .flatMap((part) => splitWhere(part, BOTH, (before, after) => wordCount(before) >= 2 && wordCount(after.split(BOTH)[0] ?? '') >= 3))
    .map((part) => part.trim().replace(LEADING_JOIN, ''))
    .filter(Boolean);
}
