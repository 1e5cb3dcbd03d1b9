/**
 * How people phrase things, whatever the question: the script a message is written in, words that
 * join two answers, courtesy that answers nothing, "but", and a message's clauses.
 */
import type { Locale } from '../../dialogs/flow';
import { LOCALES } from '../../dialogs/flow';
import { normalise } from '../engine/recognizer';

export const SCRIPT_OF: Record<Locale, RegExp> = { uk: /\p{Script=Cyrillic}/u, en: /\p{Script=Latin}/u };

/**
 * The language whose model reads a message: the conversation's, unless the message has no letter of
 * its script and some of the other's ("it's closed" in a Ukrainian conversation). A Ukrainian message
 * naming CCW's English labels ("де цей transaction manager?") stays Ukrainian: the corpus has those.
 */
export function messageLanguage(text: string, locale: Locale): Locale {
  if (SCRIPT_OF[locale].test(text)) return locale;
  const other = LOCALES.find((l) => l !== locale)!;
  return SCRIPT_OF[other].test(text) ? other : locale;
}

/**
 * Words that join two answers: "change or check", "yes and no", "і так і ні". Two different options on
 * the two sides are a question back (a step has one answer); the same option on both is just that.
 * Not "не та" ("wrong"), "не знаю, чи…" ("whether") nor "так і не…" ("never").
 */
export const ALTERNATIVE = /(?:^|\s)(?:or|and|(?<!(?:^|\s)(?:знаю|знає|знаєм|впевнений|впевнена|певен|певна|зрозуміло|ясно|уверен)\s)чи|або|или|(?<!(?:^|\s)так\s)[ій]|[ій](?!\sне(?=\s|$))|(?<!(?:^|\s)не\s)та|и)(?=\s|$)/;

/** Thanks, please and greetings, which answer nothing when other words do. */
const COURTESY = /(?:^|\s)(?:thanks|thank you|thx|ty|please|pls|plz|cheers|hi|hello|hey|good (?:morning|afternoon|evening)|дякую|дякуємо|дяк|спасибі|спасибо|спс|будь ласка|плз|привіт|вітаю|добрий день|доброго дня|добрий ранок|доброго ранку|здрастуйте)(?=\s|$)/g;

export function withoutCourtesy(normalised: string): string {
  return normalised.replace(COURTESY, ' ').replace(/\s+/g, ' ').trim();
}

/** Words after which comes what the person means: "yes, but the button is greyed out". */
export const CONTRAST = /(?:^|\s)(?:but|though|however|але|однак|проте|зате|но)(?=\s|$)/;

/** An address or a long number (an order, a subscription) is never small talk. */
export const NEVER_SMALL_TALK = /@|\d{3}/;

/** A message's clauses: split at punctuation and at "but" (CONTRAST), each normalised. */
export function clauses(text: string, locale: Locale): string[] {
  return text
    .split(/[,.;:!?()\n]+|\s[-–—]\s/)
    .flatMap((part) => normalise(part, locale).split(CONTRAST))
    .map((part) => part.trim())
    .filter(Boolean);
}

