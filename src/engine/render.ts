/** A step's view and the turn's lines as one translated, channel-neutral message. */
import type { Line, Locale, StepView } from '../../dialogs/flow';
import type { SmallTalk } from '../nlu/recogniser';
import type { Translator } from '../i18n';
import type { RenderedMessage } from './types';

export function renderMessage(translator: Translator, locale: Locale, lines: Line[], view: StepView): RenderedMessage {
  const { t } = translator;
  const choices = view.choices.map((c) => ({ id: c.id, label: t(locale, c.labelKey, c.params) }));
  // Only a re-prompt lists the options in its text: built on demand, not on every turn.
  const listed = () => choices.map((c, i) => t(locale, 'common:listedOption', { n: i + 1, label: c.label })).join(t(locale, 'common:listedOptionSeparator'));
  return {
    paragraphs: lines
      .map((l) => {
        const text = t(locale, l.key, l.params);
        return l.listChoices && choices.length ? `${text} ${listed()}` : text;
      })
      .filter((p) => p.length > 0),
    choices,
    links: view.links.map((l) => ({ label: t(locale, l.labelKey), url: l.url })),
    facts: view.facts.map((f) => ({ label: t(locale, f.labelKey), value: f.valueKey ? t(locale, f.valueKey) : (f.value ?? '') })),
    step: view.step,
    expects: view.expects,
  };
}

/** A view's lines as this turn shows them (dialogs/flow.ts: `Line.notice`, `Line.opening`). */
export function shownLines(lines: Line[], show: { notices: boolean; openings: boolean }): Line[] {
  return lines.filter((l) => (show.notices || !l.notice) && (show.openings || !l.opening));
}

/** What the engine says back instead of passing a message on to the flow. */
export type Aside = { kind: 'smallTalk'; talk: SmallTalk } | { kind: 'outOfRange'; n: number };

/**
 * The answer to small talk, or the option number that does not exist (with the options listed). At
 * an ending (a view with an outcome) small talk gets its own wording where there is one: nothing is
 * asked there, and "thanks" must not sound like a question.
 */
export function asideLine(aside: Aside, view: StepView, options: number, translator: Translator, locale: Locale): Line {
  if (aside.kind === 'outOfRange') {
    return options === 1
      ? { key: 'common:noSuchOptionOnly', params: { n: aside.n }, listChoices: true }
      : { key: 'common:noSuchOption', params: { n: aside.n, last: options }, listChoices: true };
  }
  const atEnd = `common:smallTalk.atEnd.${aside.talk}`;
  return { key: view.outcome && translator.has(locale, atEnd) ? atEnd : `common:smallTalk.${aside.talk}` };
}

/**
 * A new conversation's first message: the greeting that starts the run answers small talk and an
 * option number alike, except "who are you?", which is answered before it.
 */
export function freshAsideLine(aside: Aside): Line | undefined {
  return aside.kind === 'smallTalk' && aside.talk === 'identity' ? { key: 'common:smallTalk.identity' } : undefined;
}
