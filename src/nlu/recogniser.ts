/**
 * Understanding a free-text answer to a question (a flow step), best first:
 *   1. an option number ("2", "№2", "варіант 2", "the second one"); after a clarifying question the
 *      numbers are those of its two options;
 *   2. the whole message is an option's label or one of its synonyms (locales/<lng>/recognizer.json);
 *   3. the step's trained model (./classifier.ts, trained in this process from
 *      locales/<lng>/utterances/<flow>.json and the synonyms, on first use) in the language the
 *      message is written in, with confidence bands (./bands.ts): a clear winner, a clarifying
 *      question between two, or nothing;
 *   4. a step without a model (a flow with no corpus yet) keeps the synonym matcher of
 *      src/engine/recognizer.ts.
 * Everything here is synchronous and in memory: nothing is downloaded, nothing remote.
 */
import type { Locale } from '../../dialogs/flow';
import { LOCALES } from '../../dialogs/flow';
import type { Resources } from '../i18n';
import { buildVocabulary, normalise, recogniseChoice, type Vocabulary } from '../engine/recognizer';
import { decide, DEFAULT_BANDS, type Bands } from './bands';
import { neuralKind, type ClassifierKind, type IntentClassifier, type Ranked } from './classifier';
import { loadCorpora, type Example, type StepCorpus } from './corpus';
import { optionNumber } from './normalise';

export interface OfferedOption {
  id: string;
  /** Its label in every language, the conversation's first. */
  labels: string[];
}

export interface RecogniseRequest {
  flow: string;
  step: string;
  /** The conversation's language. */
  locale: Locale;
  text: string;
  /** What the step offers now, in display order. */
  options: OfferedOption[];
  /** The two options of a clarifying question asked at this step just before, if any. */
  clarifying?: readonly string[];
}

export type Recognition =
  | { kind: 'choice'; choice: string; via: 'number' | 'exact' | 'model' | 'synonyms'; ranked?: Ranked[] }
  | { kind: 'clarify'; options: [string, string]; ranked: Ranked[]; via: 'model' | 'alternatives' }
  /** `outOfRange`: the message was an option number the step does not have. */
  | { kind: 'none'; ranked?: Ranked[]; outOfRange?: number };

/** One step's findings in a message (see `scan`). */
export interface Finding {
  step: string;
  choice: string;
  score: number;
}

export interface RecogniserOptions {
  resources: Resources;
  /** Training corpora (default: every `locales/<lng>/utterances/<flow>.json`). */
  corpora?: StepCorpus[];
  kind?: ClassifierKind;
  bands?: Bands;
}

const SCRIPT_OF: Record<Locale, RegExp> = { uk: /\p{Script=Cyrillic}/u, en: /\p{Script=Latin}/u };

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
const ALTERNATIVE = /(?:^|\s)(?:or|and|(?<!(?:^|\s)(?:знаю|знає|знаєм|впевнений|впевнена|певен|певна|зрозуміло|ясно|уверен)\s)чи|або|или|(?<!(?:^|\s)так\s)[ій]|[ій](?!\sне(?=\s|$))|(?<!(?:^|\s)не\s)та|и)(?=\s|$)/;

/** Thanks, please and greetings, which answer nothing when other words do. */
const COURTESY = /(?:^|\s)(?:thanks|thank you|thx|ty|please|pls|plz|cheers|hi|hello|hey|good (?:morning|afternoon|evening)|дякую|дякуємо|дяк|спасибі|спасибо|спс|будь ласка|плз|привіт|вітаю|добрий день|доброго дня|добрий ранок|доброго ранку|здрастуйте)(?=\s|$)/g;

export function withoutCourtesy(normalised: string): string {
  return normalised.replace(COURTESY, ' ').replace(/\s+/g, ' ').trim();
}

/** Words after which comes what the person means: "yes, but the button is greyed out". */
const CONTRAST = /(?:^|\s)(?:but|though|however|але|однак|проте|зате|но)(?=\s|$)/;

/** One question's model in one language, trained on first use. */
interface Model {
  options: string[];
  examples: Example[];
  locale: Locale;
  classifier?: IntentClassifier;
}

const key = (flow: string, step: string, locale: Locale) => `${flow}\u0000${step}\u0000${locale}`;

export class Recogniser {
  readonly vocab: Vocabulary;
  readonly bands: Bands;
  private readonly models = new Map<string, Model>();
  private readonly kind: ClassifierKind;
  /** Steps with a model, per flow (for `scan`). */
  private readonly stepsOf = new Map<string, Set<string>>();
  /** Milliseconds spent training the models so far. */
  trainingMs = 0;

  /**
   * Reads the corpora; each question's model is trained when first needed (a few milliseconds each),
   * or all at once by `trainAll`, or in the background by `warmUp`: start-up does not wait for it.
   */
  constructor(opts: RecogniserOptions) {
    this.vocab = buildVocabulary(opts.resources);
    this.bands = opts.bands ?? DEFAULT_BANDS;
    this.kind = opts.kind ?? neuralKind;
    for (const corpus of opts.corpora ?? loadCorpora('train')) {
      this.add(corpus, [...corpus.examples, ...synonymExamples(opts.resources, corpus)]);
    }
  }

  private classifierOf(model: Model): IntentClassifier {
    if (!model.classifier) {
      const started = performance.now();
      const trained = this.kind.train(model.examples, model.locale);
      if (trained instanceof Promise) throw new Error(`${this.kind.name} trains asynchronously: use Recogniser.create`);
      model.classifier = trained;
      this.trainingMs += performance.now() - started;
    }
    return model.classifier;
  }

  /** Trains every model now (the evaluation; a process that wants no first-use delay). */
  trainAll(): this {
    for (const model of this.models.values()) this.classifierOf(model);
    return this;
  }

  /** Trains the models not trained yet, one per turn of the event loop, so nothing waits for it. */
  async warmUp(): Promise<void> {
    for (const model of this.models.values()) {
      if (model.classifier) continue;
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.classifierOf(model);
    }
  }

  private static readonly trained = new Map<string, Recogniser>();

  /**
   * The recogniser for these locales, one per process (every Engine of a process, e.g. in tests,
   * shares it and its trained models): the training corpora are read from disk, so the synonyms are
   * the only input that can differ.
   */
  static shared(resources: Resources): Recogniser {
    const key = JSON.stringify(LOCALES.map((l) => resources[l]?.recognizer ?? null));
    let r = Recogniser.trained.get(key);
    if (!r) {
      r = new Recogniser({ resources });
      if (Recogniser.trained.size >= 4) Recogniser.trained.clear();
      Recogniser.trained.set(key, r);
    }
    return r;
  }

  /** For classifiers that train asynchronously (the evaluation's candidates). */
  static async create(opts: RecogniserOptions & { kind: ClassifierKind }): Promise<Recogniser> {
    const recogniser = new Recogniser(opts);
    for (const model of recogniser.models.values()) model.classifier = await opts.kind.train(model.examples, model.locale);
    return recogniser;
  }

  private add(corpus: StepCorpus, examples: Example[]): void {
    this.models.set(key(corpus.flow, corpus.step, corpus.locale), { options: corpus.options, examples, locale: corpus.locale });
    let steps = this.stepsOf.get(corpus.flow);
    if (!steps) this.stepsOf.set(corpus.flow, (steps = new Set()));
    steps.add(corpus.step);
  }

  hasModel(flow: string, step: string): boolean {
    return this.stepsOf.get(flow)?.has(step) ?? false;
  }

  /** The step's model in the message's language (or the other language's when it has none). */
  private modelFor(flow: string, step: string, text: string, locale: Locale): { options: string[]; classifier: IntentClassifier } | undefined {
    const first = messageLanguage(text, locale);
    const model = this.models.get(key(flow, step, first)) ?? this.models.get(key(flow, step, LOCALES.find((l) => l !== first)!));
    return model && { options: model.options, classifier: this.classifierOf(model) };
  }

  /** The model's ranking of every trained option of the step, or undefined without a model. */
  rank(flow: string, step: string, text: string, locale: Locale): Ranked[] | undefined {
    return this.modelFor(flow, step, text, locale)?.classifier.rank(text);
  }

  recognise(req: RecogniseRequest): Recognition {
    const { text, options, locale } = req;
    const n = normalise(text, locale);
    if (!n) return { kind: 'none' };

    const number = optionNumber(n);
    if (number !== undefined) {
      const list = req.clarifying?.length ? req.clarifying : options.map((o) => o.id);
      const id = list[number - 1];
      return id && options.some((o) => o.id === id) ? { kind: 'choice', choice: id, via: 'number' } : { kind: 'none', outOfRange: number };
    }

    const exact = options.filter((o) => o.labels.some((l) => normalise(l, locale) === n) || (this.vocab.choices.get(o.id) ?? []).includes(n));
    if (exact.length === 1) return { kind: 'choice', choice: exact[0]!.id, via: 'exact' };

    const model = this.modelFor(req.flow, req.step, text, locale);
    if (!model) {
      const id = recogniseChoice(this.vocab, text, options);
      return id ? { kind: 'choice', choice: id, via: 'synonyms' } : { kind: 'none' };
    }
    const offered = options.map((o) => o.id);
    // "it worked, thanks", "привіт, лист не прийшов": courtesy answers nothing; alone, it is all there is.
    const content = withoutCourtesy(n) || n;
    const ranked = model.classifier.rank(content);
    const alternatives = this.alternatives(model.classifier, content, offered);
    if (alternatives) return { kind: 'clarify', options: alternatives, ranked, via: 'alternatives' };
    const decision = decide(ranked, offered, this.bands);
    if (decision.kind === 'choice' && !this.afterButAgrees(model.classifier, content, decision.choice)) {
      const second = ranked.find((r) => r.id !== decision.choice && offered.includes(r.id));
      return second ? { kind: 'clarify', options: [decision.choice, second.id], ranked, via: 'alternatives' } : { kind: 'none', ranked };
    }
    if (decision.kind === 'choice') return { kind: 'choice', choice: decision.choice, via: 'model', ranked };
    if (decision.kind === 'clarify') return { kind: 'clarify', options: decision.options, ranked, via: 'model' };
    return { kind: 'none', ranked };
  }

  /**
   * "Change or check?", "змінити чи перевірити", "yes and no": a message that names two options side
   * by side is a question back, whatever its words weigh together. Each side is recognised on its
   * own; two different likely options make a clarifying question between them.
   */
  private alternatives(classifier: IntentClassifier, normalised: string, offered: string[]): [string, string] | undefined {
    const sides = normalised
      .split(ALTERNATIVE)
      .map((p) => p.trim())
      .filter(Boolean);
    if (sides.length < 2) return undefined;
    const found: string[] = [];
    for (const side of sides) {
      const top = classifier.rank(side)[0];
      if (top && top.score >= this.bands.ask && offered.includes(top.id) && !found.includes(top.id)) found.push(top.id);
    }
    return found.length >= 2 ? [found[0]!, found[1]!] : undefined;
  }

  /**
   * "Found an old one, but not that one": after "but" comes what the person means. A message with
   * a "but" acts only when what follows it, read alone, points to the same option.
   */
  private afterButAgrees(classifier: IntentClassifier, normalised: string, choice: string): boolean {
    const parts = normalised.split(CONTRAST);
    if (parts.length < 2) return true;
    const after = parts.at(-1)!.trim();
    if (!after) return true;
    const top = classifier.rank(after)[0];
    return top !== undefined && top.score >= this.bands.ask && top.id === choice;
  }

  /**
   * What a message clearly answers at every modelled step of a flow, for answers that fill more than
   * one step (issue 16 item 3 builds on this). Each step's model is asked on its own; only clear
   * winners are returned, best first.
   */
  scan(flow: string, text: string, locale: Locale): Finding[] {
    const out: Finding[] = [];
    for (const step of this.stepsOf.get(flow) ?? []) {
      const model = this.modelFor(flow, step, text, locale);
      if (!model) continue;
      const ranked = model.classifier.rank(text);
      const d = decide(ranked, model.options, this.bands);
      if (d.kind === 'choice') out.push({ step, choice: d.choice, score: ranked[0]!.score });
    }
    return out.sort((a, b) => b.score - a.score);
  }
}

/** The option synonyms of recognizer.json in the corpus's language, as training phrasings too. */
function synonymExamples(resources: Resources, corpus: StepCorpus): Example[] {
  const rec = resources[corpus.locale]?.recognizer as { choices?: Record<string, string[]> } | undefined;
  return corpus.options.flatMap((label) => (rec?.choices?.[label] ?? []).map((text) => ({ text, label })));
}
