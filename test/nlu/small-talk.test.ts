/**
 * The small-talk model (locales/<lng>/utterances/small-talk.json): it knows held-out greetings,
 * thanks, "ok", "wait" and "who are you" in both languages, and takes no answer of the flows for
 * small talk (the engine asks it only after the step found no answer, but a step may have none).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCALES } from '../../dialogs/flow';
import { normalise } from '../../src/engine/recognizer';
import { loadCorpora, NONE_LABEL } from '../../src/nlu/corpus';
import { Recogniser, SMALL_TALK, SMALL_TALK_FLOW, withoutCourtesy } from '../../src/nlu/recogniser';
import { translator } from '../dialogs/provisioning-contact/helpers';

const heldout = loadCorpora('heldout');

describe('small talk', () => {
  let recogniser: Recogniser;
  beforeAll(() => {
    recogniser = Recogniser.shared(translator.resources);
  });

  it.each(LOCALES)('%s: knows at least 95 %% of the held-out small talk, and never mistakes one kind for another', (locale) => {
    const examples = heldout.filter((c) => c.flow === SMALL_TALK_FLOW && c.locale === locale).flatMap((c) => c.examples);
    expect(new Set(examples.map((e) => e.label))).toEqual(new Set(SMALL_TALK));
    const got = examples.map((e) => ({ ...e, got: recogniser.smallTalk(e.text, locale) }));
    expect(got.filter((e) => e.got === e.label).length / examples.length).toBeGreaterThanOrEqual(0.95);
    expect(got.filter((e) => e.got !== undefined && e.got !== e.label).map((e) => `${e.text} -> ${e.got}`)).toEqual([]);
  });

  it.each(LOCALES)('%s: takes no held-out answer of a flow for small talk (but for one with thanks or a greeting in it)', (locale) => {
    const answers = heldout
      .filter((c) => c.flow !== SMALL_TALK_FLOW && c.locale === locale)
      .flatMap((c) => c.examples.filter((e) => e.label !== NONE_LABEL))
      .filter((e) => withoutCourtesy(normalise(e.text, locale)) === normalise(e.text, locale));
    expect(answers.length).toBeGreaterThanOrEqual(300);
    expect(answers.filter((e) => recogniser.smallTalk(e.text, locale)).map((e) => e.text)).toEqual([]);
  });

  it('never takes a number, an option number or an address for small talk', () => {
    for (const text of ['2', '104857391', 'Sub123456', 'olena@example.com', 'олена@партнер.укр']) {
      expect(recogniser.smallTalk(text, 'en'), text).toBeUndefined();
      expect(recogniser.smallTalk(text, 'uk'), text).toBeUndefined();
    }
  });
});
