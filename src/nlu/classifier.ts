/**
 * Classifiers of one question's answers, trained from its examples. Two live here, both over the
 * features of ./features.ts; `npm run nlu:eval -- --compare` measures them (and NLP.js's own NLU
 * pipeline, ./candidates/nlpjs-nlu.ts) on the held-out corpus. The recogniser uses `tfidf`
 * (README "Understanding free text" has the numbers).
 */
import { NeuralNetwork } from '@nlpjs/neural';
import type { Locale } from '../../dialogs/flow';
import type { Example } from './corpus';
import { featuresOf, featuresOfWords, KnownWords, wordsOf, type Features } from './features';

/** An option and how sure the classifier is of it, in [0, 1]. */
export interface Ranked {
  id: string;
  score: number;
}

export interface IntentClassifier {
  /** Every trained option, best first. All scores 0: nothing in the message is known. */
  rank(text: string): Ranked[];
}

export interface ClassifierKind {
  name: string;
  train(examples: Example[], locale: Locale): IntentClassifier | Promise<IntentClassifier>;
}

/**
 * TF-IDF over stems, negated stems, stem pairs and character trigrams; an option scores the cosine
 * similarity of its nearest training phrasing (1-NN per option). Unknown features still count in the
 * message's length, so a long message that shares one word with an example is not "sure".
 *
 * The index is kept in typed arrays (feature id -> a run of postings, CSR): the bot keeps dozens of
 * these for its whole life, and as a Map of [example, weight] pairs they were ~400k small arrays that
 * every major GC had to mark, about 10 % of the CPU of a turn that never used them (issue 16's bench).
 */
export class TfidfClassifier implements IntentClassifier {
  /** feature -> its id, the index into `idf` and `offsets` */
  private readonly ids = new Map<string, number>();
  private readonly idf: Float64Array;
  /** Postings of feature f: `postExample`/`postWeight` from `offsets[f]` to `offsets[f + 1]`. */
  private readonly offsets: Uint32Array;
  private readonly postExample: Uint32Array;
  private readonly postWeight: Float64Array;
  private readonly labels: string[];
  private readonly exampleLabel: Uint32Array;
  private readonly unknownIdf: number;

  constructor(
    examples: Example[],
    private readonly locale: Locale,
    /** How much an unknown feature weighs against the message's length (0: ignored, 1: as rare as the rarest known). */
    private readonly unknownWeight = 0.5,
  ) {
    this.labels = [...new Set(examples.map((e) => e.label))];
    this.exampleLabel = Uint32Array.from(examples, (e) => this.labels.indexOf(e.label));
    const docs = examples.map((e) => featuresOf(e.text, locale));
    const df: number[] = [];
    for (const d of docs) {
      for (const k of d.keys()) {
        let id = this.ids.get(k);
        if (id === undefined) this.ids.set(k, (id = df.push(0) - 1));
        df[id]!++;
      }
    }
    const n = docs.length;
    this.idf = Float64Array.from(df, (count) => Math.log((n + 1) / (count + 1)) + 1);
    this.unknownIdf = Math.log(n + 1) + 1;
    this.offsets = new Uint32Array(df.length + 1);
    for (let f = 0; f < df.length; f++) this.offsets[f + 1] = this.offsets[f]! + df[f]!;
    this.postExample = new Uint32Array(this.offsets[df.length]!);
    this.postWeight = new Float64Array(this.offsets[df.length]!);
    const filled = this.offsets.slice(0, df.length);
    docs.forEach((d, i) => {
      for (const [id, w] of this.weigh(d, false)) {
        const at = filled[id]!++;
        this.postExample[at] = i;
        this.postWeight[at] = w;
      }
    });
  }

  /** TF-IDF by feature id, L2-normalised; unknown features only add to the norm. */
  private weigh(f: Features, query: boolean): Map<number, number> {
    const v = new Map<number, number>();
    let norm = 0;
    for (const [k, tf] of f) {
      const id = this.ids.get(k);
      if (id === undefined) {
        if (query) norm += (tf * this.unknownIdf * this.unknownWeight) ** 2;
        continue;
      }
      const w = (1 + Math.log(tf)) * this.idf[id]!;
      v.set(id, w);
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (const [id, w] of v) v.set(id, w / norm);
    return v;
  }

  rank(text: string): Ranked[] {
    const q = this.weigh(featuresOf(text, this.locale), true);
    const sims = new Map<number, number>();
    for (const [id, w] of q) {
      for (let at = this.offsets[id]!, end = this.offsets[id + 1]!; at < end; at++) {
        const i = this.postExample[at]!;
        sims.set(i, (sims.get(i) ?? 0) + w * this.postWeight[at]!);
      }
    }
    const best = new Array<number>(this.labels.length).fill(0);
    for (const [i, s] of sims) {
      const l = this.exampleLabel[i]!;
      if (s > best[l]!) best[l] = s;
    }
    return this.labels.map((id, l) => ({ id, score: Math.min(1, best[l]!) })).sort((a, b) => b.score - a.score);
  }
}

export const tfidfKind: ClassifierKind = { name: 'tfidf-1nn (own, NLP.js stemmers)', train: (ex, locale) => new TfidfClassifier(ex, locale) };

/**
 * NLP.js's defaults but for the error to stop at: 5e-4 instead of 5e-5 trains in well under half the
 * time (all questions, both languages) with the same held-out accuracy (npm run nlu:eval).
 */
const NETWORK = { log: false, errorThresh: 0.0005 };

/** The share of a message's words a model must know to be as sure as its network says. */
const FULL_COVERAGE = 0.5;

/**
 * NLP.js's neural network (@nlpjs/neural: one perceptron per option, as in its NLU) over the same
 * features; scores squared and normalised as NLP.js does, and 0 when no feature is known.
 */
export class NeuralClassifier implements IntentClassifier {
  private readonly net = new NeuralNetwork(NETWORK);
  private readonly known = new Set<string>();
  private readonly words = new KnownWords();
  private readonly labels: string[];

  constructor(
    examples: Example[],
    private readonly locale: Locale,
  ) {
    this.labels = [...new Set(examples.map((e) => e.label))];
    const corpus = examples.map((e) => {
      this.words.add(e.text, locale);
      const input = Object.fromEntries(featuresOf(e.text, locale));
      for (const k of Object.keys(input)) this.known.add(k);
      return { input, output: { [e.label]: 1 } };
    });
    this.net.train(corpus);
  }

  rank(text: string): Ranked[] {
    // Words it has not seen are read as the seen word a typo away; the share it could read says how
    // sure it may be: half the words is enough, fewer scale the scores down.
    const words = wordsOf(text, this.locale);
    const read = words.map((w) => this.words.correct(w));
    const seen = words.length ? Math.min(1, read.filter(Boolean).length / words.length / FULL_COVERAGE) : 0;
    const f = featuresOfWords(read.map((w, i) => w ?? words[i]!));
    const input: Record<string, number> = {};
    let known = 0;
    for (const [k, v] of f) {
      if (!this.known.has(k)) continue;
      input[k] = v;
      known++;
    }
    if (known === 0 || seen === 0) return this.labels.map((id) => ({ id, score: 0 }));
    const out = this.net.run(input) ?? {};
    let total = 0;
    const squared = this.labels.map((id) => {
      const s = (out[id] ?? 0) ** 2;
      total += s;
      return { id, score: s };
    });
    return squared.map((r) => ({ id: r.id, score: total > 0 ? (seen * r.score) / total : 0 })).sort((a, b) => b.score - a.score);
  }
}

export const neuralKind: ClassifierKind = { name: 'nlpjs-neural (NLP.js network, own features)', train: (ex, locale) => new NeuralClassifier(ex, locale) };

/**
 * The network decides; the nearest-phrasing classifier is a second opinion. When they disagree on
 * the best option the network's confidence is halved, so the answer becomes a clarifying question
 * (or nothing) instead of a route: two different models rarely agree on the same wrong answer.
 */
export class AgreementClassifier implements IntentClassifier {
  private readonly neural: NeuralClassifier;
  private readonly tfidf: TfidfClassifier;

  constructor(examples: Example[], locale: Locale) {
    this.neural = new NeuralClassifier(examples, locale);
    this.tfidf = new TfidfClassifier(examples, locale);
  }

  rank(text: string): Ranked[] {
    const ranked = this.neural.rank(text);
    const top = ranked[0];
    if (!top || top.score === 0) return ranked;
    if (this.tfidf.rank(text)[0]?.id === top.id) return ranked;
    return ranked.map((r) => (r === top ? { id: r.id, score: r.score / 2 } : r)).sort((a, b) => b.score - a.score);
  }
}

export const agreementKind: ClassifierKind = {
  name: 'nlpjs-neural + tfidf agreement',
  train: (ex, locale) => new AgreementClassifier(ex, locale),
};
