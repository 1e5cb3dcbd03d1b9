/**
 * A clarifying question: the recogniser found two likely answers to the current step and asks which
 * one was meant, with those two as buttons. The flow does not move; a press of either button is the
 * answer to the step (the buttons carry the step's own choice ids and step name). Which two were
 * offered is kept with the conversation's stored snapshot (a key XState ignores on restore) so that a
 * typed "2" on the next turn means the second of them, on whichever instance that turn runs.
 */
import type { Choice, Line, StepView } from '../../dialogs/flow';
import type { Translator } from '../i18n';
import type { Locale } from './types';

export interface Clarification {
  step: string;
  options: [string, string];
}

const KEY = 'clarifying';

/** The options of a clarifying question the stored snapshot was left with at `step`, if any. */
export function pendingClarification(stored: unknown, step: string): readonly string[] | undefined {
  const pending = (stored as Record<string, unknown> | undefined)?.[KEY] as Partial<Clarification> | undefined;
  if (!pending || pending.step !== step || !Array.isArray(pending.options)) return undefined;
  return pending.options.filter((o): o is string => typeof o === 'string');
}

/** The snapshot to store: with the clarifying question asked this turn, if one was. */
export function withClarification(snapshot: unknown, clarification: Clarification | undefined): unknown {
  return clarification && snapshot && typeof snapshot === 'object' ? { ...snapshot, [KEY]: clarification } : snapshot;
}

/** The question to ask: a wording for that pair when the locales have one, else the general one. */
export function clarificationLine(translator: Translator, locale: Locale, options: readonly string[]): Line {
  const pairKey = `recognizer:clarify.pairs.${[...options].sort().join('__')}`;
  return { key: translator.has(locale, pairKey) ? pairKey : 'recognizer:clarify.question' };
}

/** The step's view narrowed to the two options (in the order the recogniser ranked them). */
export function clarificationView(view: StepView, options: readonly string[]): StepView {
  const choices = options.map((id) => view.choices.find((c) => c.id === id)).filter((c): c is Choice => c !== undefined);
  return { ...view, choices, links: [], facts: [] };
}
