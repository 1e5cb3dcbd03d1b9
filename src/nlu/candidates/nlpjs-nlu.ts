/**
 * NLP.js's own NLU (`NluNeural` with `LangUk`/`LangEn`: its normaliser, tokenizer, stemmer and
 * spell check), as a candidate the evaluation compares with (`npm run nlu:eval -- --compare`).
 * Messages go through our normalisation first, as they would in the bot. Not used at run time: it
 * only answers asynchronously, and measured less accurate (README "Understanding free text").
 */
import { containerBootstrap } from '@nlpjs/core';
import { LangEn } from '@nlpjs/lang-en-min';
import { LangUk } from '@nlpjs/lang-uk';
import { NluNeural } from '@nlpjs/nlu';
import type { Locale } from '../../../dialogs/flow';
import type { ClassifierKind, IntentClassifier, Ranked } from '../classifier';
import type { Example } from '../corpus';
import { normaliseText } from '../normalise';

/**
 * A synchronous face for the evaluation: `rank()` answers what was prepared and notes the rest in
 * `missing` (answering "nothing known"); the evaluation prepares those and runs again.
 */
export interface PreparedClassifier extends IntentClassifier {
  prepare(texts: string[]): Promise<void>;
  readonly missing: Set<string>;
}

export function nlpjsNluKind(spellCheck: boolean): ClassifierKind {
  return {
    name: `nlpjs-nlu (NluNeural + Lang${'Uk/En'}${spellCheck ? ', spell check' : ''})`,
    async train(examples: Example[], locale: Locale): Promise<PreparedClassifier> {
      const container = await containerBootstrap();
      container.use(locale === 'uk' ? LangUk : LangEn);
      const nlu = new NluNeural({ container, locale, log: false, spellCheck, useNoneFeature: true });
      const labels = [...new Set(examples.map((e) => e.label))];
      await nlu.train(examples.map((e) => ({ utterance: normaliseText(e.text, locale), intent: e.label })));
      const answers = new Map<string, Ranked[]>();
      const missing = new Set<string>();
      return {
        missing,
        async prepare(texts) {
          for (const text of texts) {
            const r = await nlu.process(normaliseText(text, locale));
            const scores = new Map(r.classifications.map((c) => [c.intent, c.score]));
            answers.set(text, labels.map((id) => ({ id, score: scores.get(id) ?? 0 })).sort((a, b) => b.score - a.score));
          }
        },
        rank(text) {
          const r = answers.get(text);
          if (r) return r;
          missing.add(text);
          return labels.map((id) => ({ id, score: 0 }));
        },
      };
    },
  };
}
