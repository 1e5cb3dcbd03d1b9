/**
 * Measures a Recogniser on held-out phrasings: what `npm run nlu:eval` prints and what
 * test/nlu/ holds it to. Every phrasing goes through `recognise` exactly as the engine calls it
 * (option numbers, whole labels and synonyms, then the model with its bands).
 */
import type { Locale } from '../../dialogs/flow';
import type { Translator } from '../i18n';
import type { Bands } from './bands';
import { decide } from './bands';
import type { Ranked } from './classifier';
import type { StepCorpus } from './corpus';
import type { OfferedOption, Recogniser, Recognition } from './recogniser';

export interface Outcome {
  flow: string;
  step: string;
  locale: Locale;
  text: string;
  expected: string;
  recognition: Recognition;
}

export interface StepScore {
  flow: string;
  step: string;
  locale: Locale;
  total: number;
  correct: number;
  wrong: number;
  /** Clarifying questions, and how many of them offered the right option. */
  clarified: number;
  clarifiedWithAnswer: number;
  none: number;
}

export interface Evaluation {
  outcomes: Outcome[];
  steps: StepScore[];
  byLocale: Map<Locale, StepScore>;
  /** "expected -> what happened" (an option id, "clarify a|b" or "none"), most frequent first. */
  confusions: { locale: Locale; step: string; expected: string; got: string; count: number; examples: string[] }[];
}

/** The options a step offers, with their labels in both languages, the conversation's first. */
export function offeredOptions(translator: Translator | undefined, flow: string, step: string, ids: string[], locale: Locale): OfferedOption[] {
  const order: Locale[] = locale === 'uk' ? ['uk', 'en'] : ['en', 'uk'];
  return ids.map((id) => {
    const labelKey = `${flow}:${step}.choices.${id}`;
    const labels = translator ? order.filter((l) => translator.has(l, labelKey)).map((l) => translator.t(l, labelKey)) : [];
    return { id, labels };
  });
}

export function evaluate(recogniser: Recogniser, heldout: StepCorpus[], translator?: Translator): Evaluation {
  const outcomes: Outcome[] = [];
  for (const corpus of heldout) {
    const options = offeredOptions(translator, corpus.flow, corpus.step, corpus.options, corpus.locale);
    for (const ex of corpus.examples) {
      const recognition = recogniser.recognise({ flow: corpus.flow, step: corpus.step, locale: corpus.locale, text: ex.text, options });
      outcomes.push({ flow: corpus.flow, step: corpus.step, locale: corpus.locale, text: ex.text, expected: ex.label, recognition });
    }
  }
  return summarise(outcomes);
}

function emptyScore(flow: string, step: string, locale: Locale): StepScore {
  return { flow, step, locale, total: 0, correct: 0, wrong: 0, clarified: 0, clarifiedWithAnswer: 0, none: 0 };
}

function count(score: StepScore, o: Outcome): void {
  score.total++;
  const r = o.recognition;
  if (r.kind === 'choice') {
    if (r.choice === o.expected) score.correct++;
    else score.wrong++;
  } else if (r.kind === 'clarify') {
    score.clarified++;
    if (r.options.includes(o.expected)) score.clarifiedWithAnswer++;
  } else score.none++;
}

export function summarise(outcomes: Outcome[]): Evaluation {
  const steps = new Map<string, StepScore>();
  const byLocale = new Map<Locale, StepScore>();
  const confusions = new Map<string, Evaluation['confusions'][number]>();
  for (const o of outcomes) {
    const k = `${o.locale}|${o.flow}|${o.step}`;
    if (!steps.has(k)) steps.set(k, emptyScore(o.flow, o.step, o.locale));
    count(steps.get(k)!, o);
    if (!byLocale.has(o.locale)) byLocale.set(o.locale, emptyScore('*', '*', o.locale));
    count(byLocale.get(o.locale)!, o);
    const r = o.recognition;
    const got = r.kind === 'choice' ? r.choice : r.kind === 'clarify' ? `clarify ${r.options.join('|')}` : 'none';
    if (got === o.expected) continue;
    const ck = `${o.locale}|${o.step}|${o.expected}|${got}`;
    const c = confusions.get(ck) ?? { locale: o.locale, step: o.step, expected: o.expected, got, count: 0, examples: [] };
    c.count++;
    if (c.examples.length < 3) c.examples.push(o.text);
    confusions.set(ck, c);
  }
  return {
    outcomes,
    steps: [...steps.values()],
    byLocale,
    confusions: [...confusions.values()].sort((a, b) => b.count - a.count || a.step.localeCompare(b.step)),
  };
}

export const accuracy = (s: Pick<StepScore, 'correct' | 'total'>): number => (s.total ? s.correct / s.total : 1);

/** A phrasing of the ambiguity set: whatever it routes to must be one of `allowed`. */
export interface AmbiguityCase {
  locale: Locale;
  flow: string;
  step: string;
  text: string;
  /** Options it may route to; an empty list: it must never route (a question or a re-prompt only). */
  allowed: string[];
  /** The step's options (default: the step's options in the training corpus). */
  options?: string[];
}

export interface AmbiguityResult extends AmbiguityCase {
  recognition: Recognition;
  wrong: boolean;
}

export function checkAmbiguity(recogniser: Recogniser, cases: AmbiguityCase[], optionsOf: (c: AmbiguityCase) => string[], translator?: Translator): AmbiguityResult[] {
  return cases.map((c) => {
    const options = offeredOptions(translator, c.flow, c.step, c.options ?? optionsOf(c), c.locale);
    const recognition = recogniser.recognise({ flow: c.flow, step: c.step, locale: c.locale, text: c.text, options });
    const wrong = recognition.kind === 'choice' && !c.allowed.includes(recognition.choice);
    return { ...c, recognition, wrong };
  });
}

/** Re-decides outcomes of the model under other bands (tuning without ranking again). */
export function redecide(outcomes: Outcome[], bands: Bands, optionsOf: (o: Outcome) => string[]): Outcome[] {
  return outcomes.map((o) => {
    const r = o.recognition;
    const ranked: Ranked[] | undefined = r.kind === 'choice' ? r.ranked : r.kind === 'clarify' ? r.ranked : r.ranked;
    if ((r.kind === 'choice' || r.kind === 'clarify') && r.via !== 'model') return o;
    if (!ranked) return o;
    const d = decide(ranked, optionsOf(o), bands);
    const recognition: Recognition =
      d.kind === 'choice' ? { kind: 'choice', choice: d.choice, via: 'model', ranked } : d.kind === 'clarify' ? { kind: 'clarify', options: d.options, ranked, via: 'model' } : { kind: 'none', ranked };
    return { ...o, recognition };
  });
}

/** Microseconds per free-text message: every held-out phrasing through recognise() (and through the model alone), repeated (nlu:eval, bench). */
export function measureCost(r: Recogniser, corpora: StepCorpus[]): { full: number; model: number } {
  const cases = corpora.flatMap((c) => {
    const options = c.options.map((id) => ({ id, labels: [] as string[] }));
    return c.examples.map((e) => ({ flow: c.flow, step: c.step, locale: c.locale, text: e.text, options }));
  });
  for (const c of cases) r.recognise(c); // warm up
  const rounds = 20;
  let t = performance.now();
  for (let i = 0; i < rounds; i++) for (const c of cases) r.recognise(c);
  const full = ((performance.now() - t) * 1000) / (rounds * cases.length);
  t = performance.now();
  for (let i = 0; i < rounds; i++) for (const c of cases) r.rank(c.flow, c.step, c.text, c.locale);
  const model = ((performance.now() - t) * 1000) / (rounds * cases.length);
  return { full, model };
}
