/** The funnel report as plain text for a person, in their language (locales/<lng>/report.json). */
import type { Locale } from '../../dialogs/flow';
import type { Translator } from '../i18n';
import { caseTextLines } from './cases-render';
import { satisfactionTextLines } from './satisfaction-render';
import { handoffTextLines } from './handoff-render';
import { reportFormat } from './format';
import { ENDINGS, type FunnelReport, type Segment, type StepCount } from './report';

export interface RenderReportOptions {
  /** Optional readable name of a step (e.g. the step's question); the step id is always shown. */
  stepLabel?: (step: string) => string | undefined;
}

export function renderReport(report: FunnelReport, translator: Translator, locale: Locale, opts: RenderReportOptions = {}): string {
  const { t, percent, number, time: day, segmentName } = reportFormat(translator, locale);
  const out: string[] = [];

  const steps = (list: StepCount[]) => {
    if (list.length === 0) return [`  ${t('none')}`];
    const width = Math.max(...list.map((s) => s.step.length));
    return list.map((s) => {
      const label = opts.stepLabel?.(s.step);
      return `  ${s.step.padEnd(width)}  ${String(s.conversations).padStart(5)}${label ? `  ${label}` : ''}`;
    });
  };

  const section = (heading: string, s: Segment) => {
    out.push('', `== ${heading}`, t('conversations', { count: s.conversations }));
    out.push(
      s.deflectionRate === null
        ? t('deflectionNone')
        : t('deflection', { rate: percent(s.deflectionRate), deflected: s.deflected, finished: s.finished }),
    );
    out.push(s.medianTurns === null ? t('medianTurnsNone') : t('medianTurns', { value: number(s.medianTurns) }));
    out.push(t('endingsHeading'));
    const labels = ENDINGS.map((e) => t(`ending.${e}`));
    const width = Math.max(...labels.map((l) => l.length));
    ENDINGS.forEach((e, i) => {
      if (s.endings[e] > 0 || e !== 'other') out.push(`  ${labels[i]!.padEnd(width)}  ${String(s.endings[e]).padStart(5)}`);
    });
    out.push(t('reachedHeading'), ...steps(s.reached));
    if (s.abandonedAt.length) out.push(t('abandonedHeading'), ...steps(s.abandonedAt));
  };

  // Cases are counted by when they were opened, so they are shown even when no run began in the window.
  const cases = [
    ...(report.cases ? caseTextLines(report.cases, reportFormat(translator, locale)) : []),
    ...(report.satisfaction ? satisfactionTextLines(report.satisfaction, reportFormat(translator, locale)) : []),
    ...(report.handoff ? handoffTextLines(report.handoff, reportFormat(translator, locale)) : []),
  ];
  out.push(t('title', { from: day(report.from), to: day(report.to) }));
  out.push(t('generated', { at: day(report.generatedAt), minutes: number(report.idleMinutes) }));
  if (report.total.conversations === 0) {
    out.push('', t('noData'), ...cases);
    return out.join('\n') + '\n';
  }
  section(t('section.total'), report.total);
  for (const [value, s] of Object.entries(report.byLocale)) section(t('section.locale', { value: segmentName('locale', value) }), s);
  for (const [value, s] of Object.entries(report.byChannel)) section(t('section.channel', { value }), s);
  for (const [value, s] of Object.entries(report.byMode)) section(t('section.mode', { value: segmentName('mode', value) }), s);
  out.push(...cases);
  return out.join('\n') + '\n';
}
