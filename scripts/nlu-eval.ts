/**
 * `npm run nlu:eval`: how well the recogniser understands the held-out phrasings
 * (locales/<lng>/utterances/<flow>.heldout.json, never trained on) and the ambiguity set
 * (test/nlu/ambiguity.json): accuracy per question and language, the confusion pairs, how many
 * answers became clarifying questions, wrong routes, and the cost (start-up, µs per message).
 *
 *   npm run nlu:eval                 the recogniser as the bot runs it
 *   npm run nlu:eval -- --compare    every candidate classifier, each with its own tuned bands
 *   npm run nlu:eval -- --tune       search the bands for the bot's classifier
 *   npm run nlu:eval -- --misses     also list every held-out phrasing not answered right
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTranslator } from '../src/i18n';
import { DEFAULT_BANDS, type Bands } from '../src/nlu/bands';
import { agreementKind, neuralKind, tfidfKind, type ClassifierKind, type IntentClassifier } from '../src/nlu/classifier';
import { nlpjsNluKind, type PreparedClassifier } from '../src/nlu/candidates/nlpjs-nlu';
import { corpusFlows, distinctPhrasings, loadCorpora, readCorpusFile, type StepCorpus } from '../src/nlu/corpus';
import { accuracy, checkAmbiguity, evaluate, measureCost, redecide, summarise, type AmbiguityCase, type Evaluation, type Outcome } from '../src/nlu/evaluate';
import { Recogniser } from '../src/nlu/recogniser';
import { LOCALES } from '../dialogs/flow';

const args = new Set(process.argv.slice(2));
const translator = createTranslator();
const resources = translator.resources;
const train = loadCorpora('train');
const heldout = loadCorpora('heldout');
const ambiguity = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'test', 'nlu', 'ambiguity.json'), 'utf8')).cases as AmbiguityCase[];
const optionsOfStep = (c: { flow: string; step: string; locale: string }) =>
  train.find((t) => t.flow === c.flow && t.step === c.step && t.locale === c.locale)?.options ?? [];

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const pad = (s: string | number, n: number) => String(s).padEnd(n);
const padl = (s: string | number, n: number) => String(s).padStart(n);

function corpusSizes(): string {
  return LOCALES.map((l) => {
    const flows = corpusFlows(l);
    const trained = flows.reduce((n, f) => n + distinctPhrasings(readCorpusFile(l, f, 'train')!), 0);
    const held = flows.reduce((n, f) => n + (readCorpusFile(l, f, 'heldout') ? distinctPhrasings(readCorpusFile(l, f, 'heldout')!) : 0), 0);
    return `${l}: ${trained} training phrasings (+ recognizer.json synonyms), ${held} held-out phrasings`;
  }).join('\n');
}

/**
 * Classifiers that only answer asynchronously: every message the recogniser asks about (whole, and
 * the parts it reads on their own) is prepared first, by running the evaluation until none is missing.
 */
async function prepared(r: Recogniser): Promise<void> {
  const models = (r as unknown as { models: Map<string, { classifier: IntentClassifier }> }).models;
  for (let round = 0; round < 5; round++) {
    evaluate(r, heldout, translator);
    checkAmbiguity(r, ambiguity, optionsOfStep, translator);
    let missing = 0;
    for (const { classifier } of models.values()) {
      const cl = classifier as PreparedClassifier;
      if (!cl.missing?.size) continue;
      missing += cl.missing.size;
      const texts = [...cl.missing];
      cl.missing.clear();
      await cl.prepare(texts);
    }
    if (!missing) return;
  }
}

/** Top-1 accuracy: the best-ranked offered option (or the exact path's answer), with no bands at all. */
function topOne(ev: Evaluation): string {
  return LOCALES.map((l) => {
    const mine = ev.outcomes.filter((o) => o.locale === l);
    const right = mine.filter((o) => {
      const r = o.recognition;
      if (r.kind === 'choice' && r.via !== 'model') return r.choice === o.expected;
      const ranked = 'ranked' in r ? r.ranked : undefined;
      const offered = optionsOfStep(o);
      return ranked?.find((x) => offered.includes(x.id))?.id === o.expected;
    }).length;
    return `${l} ${pct(right / mine.length)}`;
  }).join(', ');
}

function ambiguityOutcomes(r: Recogniser): (Outcome & { allowed: string[] })[] {
  return checkAmbiguity(r, ambiguity, optionsOfStep, translator).map((a) => ({
    flow: a.flow,
    step: a.step,
    locale: a.locale,
    text: a.text,
    expected: a.allowed[0] ?? '(none)',
    allowed: a.allowed,
    recognition: a.recognition,
  }));
}

const wrongIn = (o: Outcome & { allowed?: string[] }) =>
  o.recognition.kind === 'choice' && !(o.allowed ?? [o.expected]).includes(o.recognition.choice);

/** The bands with no wrong route on the held-out part and the ambiguity set, answering the most. */
function tune(held: Outcome[], amb: (Outcome & { allowed: string[] })[]): { bands: Bands; correct: number; wrong: number } {
  let best: { bands: Bands; correct: number; wrong: number; clarified: number } | undefined;
  const opts = (o: Outcome) => optionsOfStep(o);
  for (let act = 0.2; act <= 0.95; act += 0.05) {
    for (let margin = 0; margin <= 0.5; margin += 0.02) {
      for (let ask = 0.05; ask <= act + 1e-9; ask += 0.05) {
        const bands = { act: +act.toFixed(2), margin: +margin.toFixed(2), ask: +ask.toFixed(2) };
        const h = redecide(held, bands, opts);
        const a = redecide(amb, bands, opts).map((o, i) => ({ ...o, allowed: amb[i]!.allowed }));
        const wrong = h.filter(wrongIn).length + a.filter(wrongIn).length;
        const correct = h.filter((o) => o.recognition.kind === 'choice' && o.recognition.choice === o.expected).length;
        const clarified = h.filter((o) => o.recognition.kind === 'clarify').length;
        const better =
          !best ||
          wrong < best.wrong ||
          (wrong === best.wrong && (correct > best.correct || (correct === best.correct && clarified > best.clarified)));
        if (better) best = { bands, correct, wrong, clarified };
      }
    }
  }
  return best!;
}

function report(name: string, r: Recogniser, ev: Evaluation, startupMs: number, trainingMs: number, usPerMessage: number, usModel: number): void {
  console.log(`\n== ${name}`);
  console.log(`bands: act >= ${r.bands.act}, lead >= ${r.bands.margin}, ask >= ${r.bands.ask}`);
  console.log(`start-up (read the corpora; models train on first use or in the background): ${startupMs.toFixed(1)} ms`);
  console.log(`training every question's model, both languages: ${trainingMs.toFixed(1)} ms`);
  if (Number.isNaN(usPerMessage)) console.log('cost per free-text message: asynchronous candidate, measured below');
  else console.log(`cost per free-text message: ${usPerMessage.toFixed(1)} µs through recognise(), ${usModel.toFixed(1)} µs in the model alone`);
  console.log('\nAccuracy per question (held-out; right = acted on the right option):');
  console.log(`${pad('lang', 5)}${pad('question', 18)}${padl('n', 5)}${padl('right', 9)}${padl('wrong', 7)}${padl('asked', 7)}${padl('none', 6)}`);
  for (const s of [...ev.steps].sort((a, b) => a.locale.localeCompare(b.locale))) {
    console.log(`${pad(s.locale, 5)}${pad(s.step, 18)}${padl(s.total, 5)}${padl(pct(accuracy(s)), 9)}${padl(s.wrong, 7)}${padl(s.clarified, 7)}${padl(s.none, 6)}`);
  }
  for (const [l, s] of ev.byLocale) {
    console.log(
      `${l}: ${pct(accuracy(s))} right of ${s.total}; wrong routes ${s.wrong}; clarifying questions ${s.clarified} (${s.clarifiedWithAnswer} offered the right option); re-prompts ${s.none}`,
    );
  }
  console.log('\nConfusion pairs (expected -> got):');
  if (!ev.confusions.length) console.log('  none');
  for (const c of ev.confusions) console.log(`  ${c.locale} ${pad(c.step, 16)} ${c.expected} -> ${c.got} ×${c.count}   e.g. ${c.examples.map((e) => JSON.stringify(e)).join(', ')}`);
  const amb = checkAmbiguity(r, ambiguity, optionsOfStep, translator);
  const ambAsked = amb.filter((a) => a.recognition.kind === 'clarify').length;
  const ambNone = amb.filter((a) => a.recognition.kind === 'none').length;
  console.log(`\nAmbiguity set (test/nlu/ambiguity.json): ${amb.length} phrasings, wrong routes ${amb.filter((a) => a.wrong).length}, clarifying questions ${ambAsked}, re-prompts ${ambNone}, allowed routes ${amb.length - ambAsked - ambNone - amb.filter((a) => a.wrong).length}`);
  for (const a of amb.filter((x) => x.wrong)) console.log(`  WRONG ${a.locale} ${a.step} ${JSON.stringify(a.text)} -> ${a.recognition.kind === 'choice' ? a.recognition.choice : ''} (allowed: ${a.allowed.join(', ') || 'no route'})`);
  if (args.has('--misses')) {
    console.log('\nMisses:');
    for (const o of ev.outcomes) {
      const rr = o.recognition;
      if (rr.kind === 'choice' && rr.choice === o.expected) continue;
      const got = rr.kind === 'choice' ? rr.choice : rr.kind === 'clarify' ? `clarify ${rr.options.join('|')}` : 'none';
      const top = 'ranked' in rr && rr.ranked ? rr.ranked.slice(0, 2).map((x) => `${x.id}:${x.score.toFixed(2)}`).join(' ') : '';
      console.log(`  ${o.locale} ${pad(o.step, 16)} ${pad(JSON.stringify(o.text), 50)} want ${o.expected}, got ${got}  [${top}]`);
    }
  }
}

async function main(): Promise<void> {
  console.log(corpusSizes());
  const kinds: ClassifierKind[] = args.has('--compare') ? [neuralKind, tfidfKind, agreementKind, nlpjsNluKind(false), nlpjsNluKind(true)] : [neuralKind];
  for (const kind of kinds) {
    const t0 = performance.now();
    const sync = kind === tfidfKind || kind === neuralKind || kind === agreementKind;
    let r = sync ? new Recogniser({ resources, corpora: train, kind }) : await Recogniser.create({ resources, corpora: train, kind });
    const startup = performance.now() - t0;
    if (sync) r.trainAll();
    const training = sync ? r.trainingMs : startup;
    const async = !sync;
    if (async) await prepared(r);
    if (args.has('--compare') || args.has('--tune')) {
      const first = evaluate(r, heldout, translator);
      const tuned = tune(first.outcomes, ambiguityOutcomes(r));
      console.log(`\n${kind.name}: tuned bands ${JSON.stringify(tuned.bands)} (held-out right ${tuned.correct}, wrong routes ${tuned.wrong}); default ${JSON.stringify(DEFAULT_BANDS)}`);
      const models = r;
      r = Object.assign(Object.create(Object.getPrototypeOf(models)), models, { bands: tuned.bands }) as Recogniser;
    }
    const ev = evaluate(r, heldout, translator);
    const sp = async ? { full: NaN, model: NaN } : measureCost(r, heldout);
    report(kind.name, r, ev, startup, training, sp.full, sp.model);
    console.log(`top-1 accuracy with no bands (the best offered option, always acted on): ${topOne(ev)}`);
    if (async) {
      const t = performance.now();
      const texts = heldout.flatMap((c) => c.examples.map((e) => e.text));
      const fresh = await Recogniser.create({ resources, corpora: train, kind });
      const prep = performance.now();
      await prepared(fresh);
      const processed = (fresh as unknown as { models: Map<string, unknown> }).models.size;
      console.log(`nlpjs-nlu: ${(((performance.now() - prep) * 1000) / texts.length).toFixed(1)} µs per held-out message (process() of it and its parts), training ${(prep - t).toFixed(0)} ms for ${processed} models`);
    }
    void summarise;
  }
}

await main();
