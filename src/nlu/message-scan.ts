/**
 * A message of several statements ("the provisioning email never arrived, they checked spam already,
 * the line says Closed"): what each statement answers at every modelled step of a flow, so the flow
 * can skip what is answered (src/engine/answers-in-message.ts).
 */
import type { Locale } from '../../dialogs/flow';
import { LOCALES } from '../../dialogs/flow';
import { normalise } from '../engine/recognizer';
import { decide, type Bands } from './bands';
import { TfidfClassifier, type IntentClassifier } from './classifier';
import { NONE_LABEL, type Example } from './corpus';
import { messageLanguage, withoutCourtesy } from './phrasing';
import { statementsOf } from './statements';

/** One step's findings in a message (see `scan`). */
export interface Finding {
  step: string;
  choice: string;
  score: number;
}

/** What a message of several statements answers (see `Recogniser.scanMessage`). */
export interface MessageScan {
  /** The message's statements, as read. */
  statements: string[];
  /** Per step, the one clear answer its statements give, best first. */
  findings: Finding[];
  /** Steps that the statements answer two different ways ("it was awaiting, now it's closed"). */
  contradicted: string[];
  /** The answers the statements likely give, clear or not, to the question asked (`at`). */
  likelyAtAsked: string[];
}

/**
 * How much nearer than every other question's phrasings a statement must be to an option's for the
 * gate (`readStatement`) to let it answer that question: "they checked spam already" is clearly about
 * the spam check, "need someone else as the provisioning contact" no clearer about edit access than
 * about anything else.
 */
const GATE_MARGIN = 0.1;


/** What the scanner needs of the recogniser's models. */
export interface ScanModels {
  readonly bands: Bands;
  stepsOf(flow: string): Iterable<string>;
  modelFor(flow: string, step: string, text: string, locale: Locale): { options: string[]; classifier: IntentClassifier } | undefined;
  examplesOf(flow: string, step: string, locale: Locale): Example[] | undefined;
}

const key = (flow: string, step: string, locale: Locale) => `${flow}\u0000${step}\u0000${locale}`;

export class MessageScanner {
  constructor(private readonly models: ScanModels) {}

  /**
   * What a message clearly answers at every modelled step of a flow (see `scanMessage`), best first.
   */
  scan(flow: string, text: string, locale: Locale): Finding[] {
    return this.readStatements(flow, statementsOf(text, locale), locale).findings;
  }

  /**
   * What a message of several statements clearly answers at every modelled step of a flow, for
   * answers that fill more than one step ("the provisioning email never arrived, they checked spam
   * already, the line says Closed"): undefined for a message of one statement (./statements.ts).
   *
   * Each statement is read on its own at every step. It is about a step when the step's own model
   * gives an option (a likely one, the `ask` band) and a nearest-phrasing model of the step that also
   * knows every other step's phrasings as answering nothing there (`gateOf`) finds that option at
   * least as near as those; so "the line says Closed" is not about "Has the organization been
   * onboarded?". It answers the step when the option is a clear winner (as `recognise` decides) and
   * the gate finds it clearly nearer (GATE_MARGIN). A statement about several questions with
   * different answers ("no", "nothing"), or about the one asked (`at`), is about that one only. A
   * step that two statements are about with different options, clear or not, is contradicted ("it
   * was awaiting, now it's closed", "change it or just check it?").
   */
  scanMessage(flow: string, text: string, locale: Locale, at?: string): MessageScan | undefined {
    const statements = statementsOf(text, locale);
    return statements.length < 2 ? undefined : this.readStatements(flow, statements, locale, at);
  }

  private readStatements(flow: string, statements: string[], locale: Locale, at?: string): MessageScan {
    /** Per step: the options statements about it give, and the clear answers among them. */
    const mentioned = new Map<string, Set<string>>();
    const answers = new Map<string, Map<string, number>>();
    for (const statement of statements) {
      const content = withoutCourtesy(statement);
      if (!content) continue;
      const about = this.readStatement(flow, content, locale);
      const narrow = !about.some((a) => a.step === at) && new Set(about.map((a) => a.choice)).size <= 1;
      for (const a of about) {
        if (a.step !== at && !narrow) continue;
        let options = mentioned.get(a.step);
        if (!options) mentioned.set(a.step, (options = new Set()));
        options.add(a.choice);
        if (a.clear) {
          let choices = answers.get(a.step);
          if (!choices) answers.set(a.step, (choices = new Map()));
          choices.set(a.choice, Math.max(choices.get(a.choice) ?? 0, a.score));
        }
      }
    }
    const findings: Finding[] = [];
    const contradicted: string[] = [];
    for (const [step, options] of mentioned) {
      if (options.size > 1) contradicted.push(step);
      else for (const [choice, score] of answers.get(step) ?? []) findings.push({ step, choice, score });
    }
    const likelyAtAsked = at === undefined ? [] : [...(mentioned.get(at) ?? [])];
    return { statements, findings: findings.sort((a, b) => b.score - a.score), contradicted, likelyAtAsked };
  }

  /** The steps one statement is about, with the option it gives there and whether that is a clear answer. */
  private readStatement(flow: string, statement: string, locale: Locale): (Finding & { clear: boolean })[] {
    const out: (Finding & { clear: boolean })[] = [];
    for (const step of this.models.stepsOf(flow)) {
      const model = this.models.modelFor(flow, step, statement, locale);
      if (!model) continue;
      const ranked = model.classifier.rank(statement);
      const top = ranked[0];
      if (!top || top.score < this.models.bands.ask || !model.options.includes(top.id)) continue;
      const gate = this.gateOf(flow, step, statement, locale)?.rank(statement) ?? [];
      const near = (id: string) => gate.find((r) => r.id === id)?.score ?? 0;
      const nearer = near(top.id) - near(NONE_LABEL);
      if (near(top.id) === 0 || nearer < 0) continue;
      const clear = decide(ranked, model.options, this.models.bands).kind === 'choice' && nearer >= GATE_MARGIN;
      out.push({ step, choice: top.id, score: top.score, clear });
    }
    return out;
  }

  /** Per (flow, step, language): the step's phrasings against every other step's (see `scanMessage`). */
  private readonly gates = new Map<string, IntentClassifier>();

  hasGate(flow: string, step: string, locale: Locale): boolean {
    return this.gates.has(key(flow, step, locale));
  }

  gateOf(flow: string, step: string, text: string, locale: Locale): IntentClassifier | undefined {
    const first = messageLanguage(text, locale);
    const language = this.models.examplesOf(flow, step, first) ? first : LOCALES.find((l) => l !== first)!;
    const own = this.models.examplesOf(flow, step, language);
    if (!own) return undefined;
    let gate = this.gates.get(key(flow, step, language));
    if (!gate) {
      const seen = new Set(own.map((e) => normalise(e.text, language)));
      const elsewhere: Example[] = [];
      for (const other of this.models.stepsOf(flow)) {
        if (other === step) continue;
        for (const e of this.models.examplesOf(flow, other, language) ?? []) {
          const n = normalise(e.text, language);
          if (e.label === NONE_LABEL || seen.has(n)) continue;
          seen.add(n);
          elsewhere.push({ text: e.text, label: NONE_LABEL });
        }
      }
      gate = new TfidfClassifier([...own, ...elsewhere], language);
      this.gates.set(key(flow, step, language), gate);
    }
    return gate;
  }
}
