/** How the funnel report writes numbers, times and segment names, the same in text and on the page. */
import type { Locale } from '../../dialogs/flow';
import type { Translator } from '../i18n';

export type SegmentKind = 'locale' | 'channel' | 'mode';

export interface ReportFormat {
  t(key: string, params?: Record<string, unknown>): string;
  percent(value: number): string;
  number(value: number): string;
  /** An ISO instant as `2026-11-20 09:00 UTC`: managers compare windows, seconds only distract. */
  time(iso: string): string;
  /** A segment's value as people say it (`English (en)`, `self-service`); channels keep their id. */
  segmentName(kind: SegmentKind, value: string): string;
}

export function reportFormat(translator: Translator, locale: Locale): ReportFormat {
  const t = (key: string, params?: Record<string, unknown>) => translator.t(locale, `report:${key}`, params);
  const intl = locale === 'uk' ? 'uk-UA' : 'en-GB';
  const percent = new Intl.NumberFormat(intl, { style: 'percent', maximumFractionDigits: 1 });
  const number = new Intl.NumberFormat(intl, { maximumFractionDigits: 1 });
  return {
    t,
    percent: (v) => percent.format(v),
    number: (v) => number.format(v),
    time: (iso) => iso.replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ' UTC'),
    segmentName(kind, value) {
      if (kind === 'locale' && translator.has(locale, `report:localeName.${value}`)) return `${t(`localeName.${value}`)} (${value})`;
      if (kind === 'mode' && translator.has(locale, `report:modeName.${value}`)) return t(`modeName.${value}`);
      return value;
    },
  };
}
