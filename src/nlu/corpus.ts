/**
 * The phrasings the recogniser learns from and is measured on, beside the locales:
 * `locales/<lng>/utterances/<flow>.json` (training) and `<flow>.heldout.json` (evaluation only, never
 * trained on). Both have the same shape:
 *
 *   {
 *     "macros": { "yes": ["yes", "yep", "👍", …] },          // reused lists, referred to as "@yes"
 *     "shared": { "<choice id>": ["…", "@yes"] },          // wherever that option is offered
 *     "steps":  { "<step>": { "<choice id>": ["…"] } }     // only at that question; the keys are the
 *   }                                                        // step's options, in the flow's order
 *
 * An option's phrasings at a step are its shared ones plus the step's own. The label `$none` (in
 * "shared" for every step, or in a step) holds messages that answer nothing there (greetings, thanks,
 * "wait", "maybe", an order number): the model learns them as an answer of their own, and a message
 * that best fits it is not taken as an option. It is never one of a step's options.
 *
 * `small-talk.json` is not a flow: its one step `any` holds the small talk understood at every step
 * (src/nlu/recogniser.ts `smallTalk`), and everything the flows' files hold as answers is its `$none`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LOCALES, type Locale } from '../../dialogs/flow';
import { LOCALES_DIR } from '../i18n';

const phrases = z.array(z.string().min(1));
const corpusFile = z.strictObject({
  $about: z.string().optional(),
  macros: z.record(z.string(), phrases).default({}),
  shared: z.record(z.string(), phrases).default({}),
  steps: z.record(z.string(), z.record(z.string(), phrases)),
});
export type CorpusFile = z.infer<typeof corpusFile>;

export type Part = 'train' | 'heldout';

export interface Example {
  text: string;
  /** The choice id. */
  label: string;
}

/** One flow's corpus in one language: per step, its options and their phrasings. */
export interface StepCorpus {
  flow: string;
  step: string;
  locale: Locale;
  /** The step's options in the flow's order. */
  options: string[];
  examples: Example[];
}

export const UTTERANCES_DIR = 'utterances';

/** The label of messages that answer nothing at a step (see the file comment). */
export const NONE_LABEL = '$none';

function fileOf(dir: string, locale: Locale, flow: string, part: Part): string {
  return join(dir, locale, UTTERANCES_DIR, part === 'train' ? `${flow}.json` : `${flow}.heldout.json`);
}

/** Flows that have a corpus in `locale` (the training files' names). */
export function corpusFlows(locale: Locale, dir = LOCALES_DIR): string[] {
  const folder = join(dir, locale, UTTERANCES_DIR);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.heldout.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function readCorpusFile(locale: Locale, flow: string, part: Part, dir = LOCALES_DIR): CorpusFile | undefined {
  const file = fileOf(dir, locale, flow, part);
  if (!existsSync(file)) return undefined;
  const parsed = corpusFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function expand(list: string[], macros: Record<string, string[]>, where: string): string[] {
  return list.flatMap((p) => {
    if (!p.startsWith('@')) return [p];
    const macro = macros[p.slice(1)];
    if (!macro) throw new Error(`${where}: unknown macro ${p}`);
    return macro;
  });
}

/** Every step of one corpus file with its examples (macros and shared phrasings expanded). */
export function stepCorpora(file: CorpusFile, flow: string, locale: Locale): StepCorpus[] {
  return Object.entries(file.steps).map(([step, own]) => {
    const options = Object.keys(own).filter((k) => k !== NONE_LABEL);
    const examples: Example[] = [];
    for (const label of [...options, NONE_LABEL]) {
      const where = `${locale}/${flow}.${step}.${label}`;
      const texts = [...expand(file.shared[label] ?? [], file.macros, where), ...expand(own[label] ?? [], file.macros, where)];
      for (const text of new Set(texts)) examples.push({ text, label });
    }
    return { flow, step, locale, options, examples };
  });
}

/** All corpora of one part: flow -> step -> locale. */
export function loadCorpora(part: Part, dir = LOCALES_DIR): StepCorpus[] {
  const out: StepCorpus[] = [];
  for (const locale of LOCALES) {
    for (const flow of corpusFlows(locale, dir)) {
      const file = readCorpusFile(locale, flow, part, dir);
      if (file) out.push(...stepCorpora(file, flow, locale));
    }
  }
  return out;
}

/** Distinct phrasings written in a corpus file (a phrasing shared by several steps counts once). */
export function distinctPhrasings(file: CorpusFile): number {
  const all = new Set<string>();
  const add = (label: string, list: string[]) => list.forEach((p) => (p.startsWith('@') ? undefined : all.add(`${label}\u0000${p}`)));
  for (const [name, list] of Object.entries(file.macros)) add(`@${name}`, list);
  for (const [label, list] of Object.entries(file.shared)) add(label, list);
  for (const own of Object.values(file.steps)) for (const [label, list] of Object.entries(own)) add(label, list);
  return all.size;
}
