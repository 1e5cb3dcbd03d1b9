/**
 * The case summary Cisco support reads: always English (labels from locales/en/cases.json), with
 * the person's own typed words quoted as written and the conversation's language noted.
 */
import type { Translator } from '../i18n';
import type { CaseRecord } from './schema';

const NS = 'cases:summary.';

export function buildCaseSummary(record: CaseRecord, translator: Translator, opts: { transcript?: boolean } = {}): string {
  const t = (key: string, params?: Record<string, unknown>) => translator.t('en', `${NS}${key}`, params);
  const value = (v: string | undefined) => (v ? t(`values.${v}`) : t('notAsked'));
  const lines: string[] = [];
  const field = (label: string, v: string) => lines.push(`${t(label)}: ${v}`);

  lines.push(t('title', { reference: record.reference }), '');
  field('requestType', record.requestType);
  field('reference', record.reference);
  field('orderNumber', record.orderNumber ?? t('notKnown'));
  field('subscriptionId', record.subscriptionId ?? t('notKnown'));
  field('currentContactEmail', record.currentContactEmail);
  field('newContactEmail', record.newContactEmail);
  field('orderLineStatus', value(record.orderLineStatus));
  field('canEditInCcw', value(record.canEditInCcw));
  field('ponrPassed', value(record.ponrPassed));
  field('fixesTried', record.fixesTried.length ? record.fixesTried.map((f) => t(`fixes.${f}`)).join('; ') : t('none'));
  field('reason', t(`reasons.${record.reason}`));
  const who = [record.openedBy.name, record.openedBy.email && `<${record.openedBy.email}>`].filter(Boolean).join(' ') || record.openedBy.userKey;
  field(record.openedBy.kind === 'agent' ? 'openedByAgent' : 'openedBy', who);
  if (record.customer && (record.customer.name || record.customer.email)) {
    field('customer', [record.customer.name, record.customer.email && `<${record.customer.email}>`].filter(Boolean).join(' '));
  }
  field('channel', record.channel);
  field('language', t(`languages.${record.locale}`));
  field('createdAt', record.createdAt);
  field(
    'attachments',
    record.attachments.length
      ? record.attachments.map((a) => `${a.name} (${a.contentType}${a.size !== undefined ? `, ${a.size} bytes` : ''}) ${a.url}`).join('\n  ')
      : t('none'),
  );

  if (record.locale !== 'en') lines.push('', t('languageNote'));
  lines.push('', `${t('trail')}:`);
  record.trail.forEach((entry, i) => {
    const answer = [entry.choice, entry.text !== undefined ? `"${entry.text}"` : undefined].filter(Boolean).join(' ');
    lines.push(`  ${i + 1}. ${entry.step}: ${answer}`);
  });

  if (opts.transcript && record.transcript.length) {
    lines.push('', `${t('transcript')}:`);
    for (const entry of record.transcript) {
      lines.push(`  [${entry.at}] ${entry.from === 'user' ? t('transcriptUser') : t('transcriptBot')}: ${entry.text.replace(/\n+/g, ' / ')}`);
    }
  }
  return lines.join('\n');
}
