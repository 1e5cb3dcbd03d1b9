/**
 * The corpus the recogniser learns from and is measured on (locales/<lng>/utterances/): it covers
 * every question the flow asks with exactly that question's options, in both languages, and the
 * held-out part is large enough and never trained on.
 */
import { describe, expect, it } from 'vitest';
import { LOCALES } from '../../dialogs/flow';
import { provisioningContactFlow } from '../../dialogs/provisioning-contact/machine';
import { normalise } from '../../src/engine/recognizer';
import { distinctPhrasings, loadCorpora, readCorpusFile } from '../../src/nlu/corpus';
import { offeredOptions } from '../../src/nlu/evaluate';
import { everyPath, translator } from '../dialogs/provisioning-contact/helpers';

const FLOW = 'provisioning-contact';
const train = loadCorpora('train');
const heldout = loadCorpora('heldout');

/** Every question step of the flow and every option it ever offers there (commands and jumps aside). */
function offeredByStep(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const p of everyPath()) {
    for (const s of [{ state: p.state }, ...p.steps]) {
      const view = provisioningContactFlow.view(s.state);
      if (view.outcome) continue;
      const ids = view.choices.map((c) => c.id).filter((id) => !id.startsWith('cmd.') && !id.startsWith('jump.'));
      const set = out.get(view.step) ?? new Set<string>();
      ids.forEach((id) => set.add(id));
      out.set(view.step, set);
    }
  }
  return out;
}

describe('the utterance corpus', () => {
  const offered = offeredByStep();

  it.each(LOCALES.flatMap((l) => (['train', 'heldout'] as const).map((part) => [l, part] as const)))(
    '%s %s: has every question of the flow, each with exactly the options it offers',
    (locale, part) => {
      const corpora = (part === 'train' ? train : heldout).filter((c) => c.locale === locale && c.flow === FLOW);
      expect(corpora.map((c) => c.step).sort()).toEqual([...offered.keys()].sort());
      for (const c of corpora) {
        expect([...c.options].sort(), `${locale} ${c.step}`).toEqual([...offered.get(c.step)!].sort());
        for (const option of c.options) expect(c.examples.filter((e) => e.label === option).length, `${locale} ${c.step} ${option}`).toBeGreaterThan(part === 'train' ? 5 : 1);
      }
    },
  );

  it.each(LOCALES)('%s: holds at least 300 held-out phrasings', (locale) => {
    expect(distinctPhrasings(readCorpusFile(locale, FLOW, 'heldout')!)).toBeGreaterThanOrEqual(300);
  });

  it.each(LOCALES)('%s: trains on none of the held-out phrasings (nor are they a label or a synonym of the step)', (locale) => {
    const synonyms = translator.resources[locale].recognizer as { choices: Record<string, string[]> };
    const seen: string[] = [];
    for (const h of heldout.filter((c) => c.locale === locale)) {
      const t = train.find((c) => c.locale === locale && c.flow === h.flow && c.step === h.step)!;
      const known = new Set([
        ...t.examples.map((e) => normalise(e.text, locale)),
        ...h.options.flatMap((o) => (synonyms.choices[o] ?? []).map((p) => normalise(p, locale))),
        ...offeredOptions(translator, h.flow, h.step, h.options, locale).flatMap((o) => o.labels.map((l) => normalise(l, locale))),
      ]);
      for (const e of h.examples) if (known.has(normalise(e.text, locale))) seen.push(`${h.step}: ${e.text}`);
    }
    expect(seen).toEqual([]);
  });
});
