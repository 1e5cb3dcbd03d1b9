/**
 * Confidence bands: what the recogniser does with a ranking. A clear winner acts; a likely answer
 * that is not clear gets a clarifying question between the two best options; nothing likely gets
 * the step's re-prompt. A wrong route is worse than a question, so the bands are tuned on the
 * held-out corpus and the ambiguity set (test/nlu/) to never act on those wrongly
 * (`npm run nlu:eval -- --tune` searches them).
 */
import type { Ranked } from './classifier';

export interface Bands {
  /** The best option acts at this score or above... */
  act: number;
  /** ...and when it leads the second by at least this much. */
  margin: number;
  /** Below this, nothing is likely: the re-prompt. Between `ask` and acting: a clarifying question. */
  ask: number;
}

export const DEFAULT_BANDS: Bands = { act: 0.6, margin: 0.15, ask: 0.05 };

export type Decision =
  | { kind: 'choice'; choice: string }
  | { kind: 'clarify'; options: [string, string] }
  | { kind: 'none' };

/**
 * Decides on a ranking of every trained option, given the options the step offers now (a browser
 * fix already tried is no longer offered: a message that best fits it is not taken as another one).
 */
export function decide(ranked: Ranked[], offered: readonly string[], bands: Bands = DEFAULT_BANDS): Decision {
  const top = ranked[0];
  if (!top || top.score < bands.ask) return { kind: 'none' };
  if (!offered.includes(top.id)) return { kind: 'none' };
  const rest = ranked.filter((r) => r.id !== top.id && offered.includes(r.id));
  const second = rest[0];
  if (top.score >= bands.act && top.score - (second?.score ?? 0) >= bands.margin) return { kind: 'choice', choice: top.id };
  if (!second) return { kind: 'none' };
  return { kind: 'clarify', options: [top.id, second.id] };
}
