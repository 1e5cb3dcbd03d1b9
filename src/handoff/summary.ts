/**
 * What an engineer reads on a hand-off request: always English, in the case summary's words
 * (locales/en/cases.json `summary`), the person's own answers as they gave them, then the decision
 * trail. Channels put these parts on their card.
 */
import type { Translator } from '../i18n';
import type { HandoffRecord } from './repository';

export interface RequestSummary {
  title: string;
  /** `label: value` pairs: what is known about the order and the person. */
  facts: { title: string; value: string }[];
  /** The decision trail, one line per answer. */
  trail: string[];
  /** Plain text of all of it (a card's fallback, a channel without cards). */
  text: string;
}

/** A short reference for people to say: `H-` and the first six characters of the id. */
export function handoffRef(id: string): string {
  return `H-${id.replace(/[^A-Za-z0-9]/g, '').slice(0, 6).toUpperCase()}`;
}

export function requestSummary(h: HandoffRecord, translator: Translator): RequestSummary {
  const en = (key: string, params?: Record<string, unknown>) => translator.t('en', key, params);
  const s = (key: string) => en(`cases:summary.${key}`);
  const d = h.caseInput.draft;
  const facts: { title: string; value: string }[] = [];
  const add = (label: string, value: string | undefined) => value && facts.push({ title: s(label), value });
  add('requestType', d.requestType);
  add('orderNumber', d.orderNumber);
  add('subscriptionId', d.subscriptionId);
  add('currentContactEmail', d.currentContactEmail);
  add('newContactEmail', d.newContactEmail);
  add('orderLineStatus', d.orderLineStatus && s(`values.${d.orderLineStatus}`));
  add('canEditInCcw', d.canEditInCcw && s(`values.${d.canEditInCcw}`));
  add('ponrPassed', d.ponrPassed && s(`values.${d.ponrPassed}`));
  add('fixesTried', d.fixesTried?.length ? d.fixesTried.map((f) => s(`fixes.${f}`)).join('; ') : undefined);
  add('openedBy', [d.requester?.name, d.requester?.email && `<${d.requester.email}>`].filter(Boolean).join(' ') || undefined);
  facts.push({ title: en('handoff:expert.channel'), value: h.channel });
  facts.push({ title: en('handoff:expert.language'), value: en(`handoff:expert.languages.${h.locale}`) });
  facts.push({ title: en('handoff:expert.reason'), value: s(`reasons.${d.reason ?? 'requested'}`) });
  const trail = (d.trail ?? []).map((e, i) => `${i + 1}. ${e.step}: ${[e.choice, e.text !== undefined ? `"${e.text}"` : undefined].filter(Boolean).join(' ')}`);
  const title = en('handoff:expert.title', { ref: handoffRef(h.id) });
  const text = [title, '', ...facts.map((f) => `${f.title}: ${f.value}`), ...(trail.length ? ['', `${en('handoff:expert.trail')}:`, ...trail] : [])].join('\n');
  return { title, facts, trail, text };
}
