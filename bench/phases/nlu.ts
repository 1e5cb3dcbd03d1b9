/**
 * The free-text recogniser's cost (issue 16): every held-out phrasing of the corpus through
 * recognise() in this process after training, as microseconds per message and as a share of a turn's
 * CPU in the throughput phase (the walker presses buttons, which never reach the model). The modules
 * are those of the checkout under test (--bot-root).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { progress, quickRun, report } from '../lib/context';
import { settings } from '../lib/settings';
import { median, round } from '../lib/stats';

type Corpus = { examples: unknown[] };
interface NluModules {
  createTranslator(): { resources: unknown };
  loadCorpora(kind: string): Corpus[];
  measureCost(recogniser: unknown, corpora: Corpus[]): { full: number; model: number };
  Recogniser: new (opts: { resources: unknown }) => { warmUp(): Promise<void> };
}

async function modules(root: string): Promise<NluModules> {
  const mod = async (p: string) => (await import(pathToFileURL(join(root, p)).href)) as Record<string, unknown>;
  const [i18n, corpus, evaluate, recogniser] = await Promise.all([mod('src/i18n.ts'), mod('src/nlu/corpus.ts'), mod('src/nlu/evaluate.ts'), mod('src/nlu/recogniser.ts')]);
  return { ...i18n, ...corpus, ...evaluate, ...recogniser } as unknown as NluModules;
}

export async function nluPhase(): Promise<void> {
  const { createTranslator, loadCorpora, measureCost, Recogniser } = await modules(settings.botRoot);
  const resources = createTranslator().resources;
  const t0 = performance.now();
  const recogniser = new Recogniser({ resources });
  const heldout = loadCorpora('heldout');
  await recogniser.warmUp();
  const trainMs = performance.now() - t0;
  const runs = Array.from({ length: quickRun() ? 1 : 3 }, () => measureCost(recogniser, heldout));
  const usPerMessage = median(runs.map((r) => r.full));
  const botRow = (report.throughput as { rows?: { target: string; cpuMsPerTurn?: number }[] } | undefined)?.rows?.find((r) => r.target === 'bot-sqlite');
  const shareOfTurn = botRow?.cpuMsPerTurn ? usPerMessage / (botRow.cpuMsPerTurn * 1000) : undefined;
  report.nlu = {
    messages: heldout.reduce((n, c) => n + c.examples.length, 0),
    trainMs: Math.round(trainMs),
    usPerMessage: round(usPerMessage, 1),
    usInModel: round(median(runs.map((r) => r.model)), 1),
    ...(shareOfTurn !== undefined ? { shareOfTurnCpu: round(shareOfTurn, 3) } : {}),
  };
  progress(`nlu: ${usPerMessage.toFixed(1)} µs per free-text message, training ${trainMs.toFixed(0)} ms`);
}
