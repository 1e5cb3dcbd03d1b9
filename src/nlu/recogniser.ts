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
 * A message that answers nothing may be small talk (`smallTalk`: "hi", "thx", "хвилинку", "ти бот?"),
 * a model of its own trained from locales/<lng>/utterances/small-talk.json against every answer above.
 * Everything here is synchronous and in memory: nothing is downloaded, nothing remote.
 */
import type { Locale } from '../../dialogs/flow';
import { LOCALES } from '../../dialogs/flow';
import type { Resources } from '../i18n';
import { buildVocabulary, normalise, recogniseChoice, type Vocabulary } from '../engine/recognizer';
import { decide, DEFAULT_BANDS, type Bands } from './bands';
import { neuralKind, type ClassifierKind, type IntentClassifier, type Ranked } from './classifier';
import { loadCorpora, NONE_LABEL, type Example, type StepCorpus } from './corpus';
import { MessageScanner, type Finding, type MessageScan } from './message-scan';
import { optionNumber } from './normalise';
import { ALTERNATIVE, clauses, CONTRAST, messageLanguage, NEVER_SMALL_TALK, withoutCourtesy } from './phrasing';

export type { Finding, MessageScan } from './message-scan';
export { messageLanguage, withoutCourtesy } from './phrasing';

/**
 * Small talk, understood at any step of any flow: its corpus is `locales/<lng>/utterances/small-talk.json`,
 * one "step" whose options are these (measured by `npm run nlu:eval` like any question).
 */
export const SMALL_TALK_FLOW = 'small-talk';
export const SMALL_TALK_STEP = 'any';
export const SMALL_TALK = ['greeting', 'thanks', 'ok', 'wait', 'identity'] as const;
export type SmallTalk = (typeof SMALL_TALK)[number];

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

export interface RecogniserOptions {
  resources: Resources;
  /** Training corpora (default: every `locales/<lng>/utterances/<flow>.json`). */
  corpora?: StepCorpus[];
  kind?: ClassifierKind;
  bands?: Bands;
}

/** One question's model in one language, trained on first use. */
interface Model {
  options: string[];
  /** Its training phrasings, gathered on first use (small talk's normalise every corpus: not at start-up). */
  gather: () => Example[];
  examples?: Example[];
  locale: Locale;
  classifier?: IntentClassifier;
}

const gathered = (model: Model): Example[] => (model.examples ??= model.gather());

const key = (flow: string, step: string, locale: Locale) => `${flow}\u0000${step}\u0000${locale}`;

export class Recogniser {
  readonly vocab: Vocabulary;
  readonly bands: Bands;
  private readonly models = new Map<string, Model>();
  private readonly kind: ClassifierKind;
  /** Steps with a model, per flow (for `scan`). */
  private readonly steps = new Map<string, Set<string>>();
  /** Messages of several statements (./message-scan.ts). */
  private readonly scanner = new MessageScanner(this);
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
    const corpora = opts.corpora ?? loadCorpora('train');
    for (const corpus of corpora) {
      const more = corpus.flow === SMALL_TALK_FLOW ? () => answersAsNone(opts.resources, corpora, corpus) : () => synonymExamples(opts.resources, corpus);
      this.add(corpus, () => [...corpus.examples, ...more()]);
    }
  }

  private classifierOf(model: Model): IntentClassifier {
    if (!model.classifier) {
      const started = performance.now();
      const trained = this.kind.train(gathered(model), model.locale);
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
    // And the gates of `scanMessage`, which a first message of several statements would wait for.
    for (const [flow, steps] of this.steps) {
      if (steps.size < 2) continue;
      for (const step of steps) {
        for (const locale of LOCALES) {
          if (this.scanner.hasGate(flow, step, locale) || !this.models.has(key(flow, step, locale))) continue;
          await new Promise<void>((resolve) => setImmediate(resolve));
          this.scanner.gateOf(flow, step, '', locale);
        }
      }
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
    for (const model of recogniser.models.values()) model.classifier = await opts.kind.train(gathered(model), model.locale);
    return recogniser;
  }

  private add(corpus: StepCorpus, gather: () => Example[]): void {
    this.models.set(key(corpus.flow, corpus.step, corpus.locale), { options: corpus.options, gather, locale: corpus.locale });
    let steps = this.steps.get(corpus.flow);
    if (!steps) this.steps.set(corpus.flow, (steps = new Set()));
    steps.add(corpus.step);
  }

  hasModel(flow: string, step: string): boolean {
    return this.steps.get(flow)?.has(step) ?? false;
  }

  /** The step's model in the message's language (or the other language's when it has none). */
  modelFor(flow: string, step: string, text: string, locale: Locale): { options: string[]; classifier: IntentClassifier } | undefined {
    const first = messageLanguage(text, locale);
    const model = this.models.get(key(flow, step, first)) ?? this.models.get(key(flow, step, LOCALES.find((l) => l !== first)!));
    return model && { options: model.options, classifier: this.classifierOf(model) };
  }

  /** The model's ranking of every trained option of the step, or undefined without a model. */
  rank(flow: string, step: string, text: string, locale: Locale): Ranked[] | undefined {
    return this.modelFor(flow, step, text, locale)?.classifier.rank(text);
  }

  /** Labels are a few dozen strings asked on every turn: normalised once (bounded, in case of parameters). */
  private readonly labels = new Map<string, string>();

  private normalisedLabel(label: string, locale: Locale): string {
    const key = `${locale}\u0000${label}`;
    let n = this.labels.get(key);
    if (n === undefined) {
      n = normalise(label, locale);
      if (this.labels.size < 5_000) this.labels.set(key, n);
    }
    return n;
  }

  recognise(req: RecogniseRequest): Recognition {
    const { text, options, locale } = req;
    const n = normalise(text, locale);
    if (!n) return { kind: 'none' };
    if (req.flow === SMALL_TALK_FLOW) return this.recogniseSmallTalk(req, n);

    const number = optionNumber(n);
    if (number !== undefined) {
      const list = req.clarifying?.length ? req.clarifying : options.map((o) => o.id);
      const id = list[number - 1];
      return id && options.some((o) => o.id === id) ? { kind: 'choice', choice: id, via: 'number' } : { kind: 'none', outOfRange: number };
    }

    const exact = options.filter((o) => o.labels.some((l) => this.normalisedLabel(l, locale) === n) || (this.vocab.choices.get(o.id) ?? []).includes(n));
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
   * The small talk a message is ("hi", "thx", "хвилинку", "ти бот?"): one of SMALL_TALK, or undefined
   * for anything else. The engine asks only when the message answers nothing at the current step.
   */
  smallTalk(text: string, locale: Locale): SmallTalk | undefined {
    const options = SMALL_TALK.map((id) => ({ id, labels: [] }));
    const r = this.recognise({ flow: SMALL_TALK_FLOW, step: SMALL_TALK_STEP, locale, text, options });
    return r.kind === 'choice' ? (r.choice as SmallTalk) : undefined;
  }

  /**
   * Small talk is the whole message: courtesy is what it is made of (nothing is stripped), a number
   * is an option number and never small talk, and only a clear winner counts.
   */
  private recogniseSmallTalk(req: RecogniseRequest, normalised: string): Recognition {
    if (optionNumber(normalised) !== undefined || NEVER_SMALL_TALK.test(req.text)) return { kind: 'none' };
    const model = this.modelFor(req.flow, req.step, req.text, req.locale);
    if (!model) return { kind: 'none' };
    const ranked = model.classifier.rank(normalised);
    const decision = decide(ranked, req.options.map((o) => o.id), this.bands);
    if (decision.kind !== 'choice') return { kind: 'none', ranked };
    // "hi, the email never came", "thanks but it didn't work", "секунду, там статус закрите": a part
    // that is clearly something else makes the whole message something else.
    const parts = clauses(req.text, req.locale);
    const answered = parts.length > 1 && parts.some((part) => decide(model.classifier.rank(part), [NONE_LABEL], this.bands).kind === 'choice');
    return answered ? { kind: 'none', ranked } : { kind: 'choice', choice: decision.choice, via: 'model', ranked };
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

  /** What a message clearly answers at every modelled step of a flow (./message-scan.ts), best first. */
  scan(flow: string, text: string, locale: Locale): Finding[] {
    return this.scanner.scan(flow, text, locale);
  }

  /** What a message of several statements answers at every modelled step of a flow (./message-scan.ts). */
  scanMessage(flow: string, text: string, locale: Locale, at?: string): MessageScan | undefined {
    return this.scanner.scanMessage(flow, text, locale, at);
  }

  // For ./message-scan.ts: the modelled steps of a flow, and a step's training phrasings.
  stepsOf(flow: string): Iterable<string> {
    return this.steps.get(flow) ?? [];
  }

  examplesOf(flow: string, step: string, locale: Locale): Example[] | undefined {
    const model = this.models.get(key(flow, step, locale));
    return model && gathered(model);
  }
}

/**
 * Small talk is learnt against every answer the flows' corpora (and synonyms) hold in its language:
 * to the small-talk model those are `$none`, so none of it has to be written twice. A phrasing that
 * is small talk's own (e.g. "ok") stays small talk.
 */
function answersAsNone(resources: Resources, corpora: StepCorpus[], smallTalk: StepCorpus): Example[] {
  const seen = new Set(smallTalk.examples.map((e) => normalise(e.text, smallTalk.locale)));
  const out: Example[] = [];
  for (const corpus of corpora) {
    if (corpus.locale !== smallTalk.locale || corpus.flow === SMALL_TALK_FLOW) continue;
    for (const e of [...corpus.examples, ...synonymExamples(resources, corpus)]) {
      const n = normalise(e.text, smallTalk.locale);
      if (e.label === NONE_LABEL || seen.has(n)) continue;
      seen.add(n);
      out.push({ text: e.text, label: NONE_LABEL });
    }
  }
  return out;
}

/** The option synonyms of recognizer.json in the corpus's language, as training phrasings too. */
function synonymExamples(resources: Resources, corpus: StepCorpus): Example[] {
  const rec = resources[corpus.locale]?.recognizer as { choices?: Record<string, string[]> } | undefined;
  return corpus.options.flatMap((label) => (rec?.choices?.[label] ?? []).map((text) => ({ text, label })));
}
