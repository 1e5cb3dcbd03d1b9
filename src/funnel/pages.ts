/**
 * The funnel report page for a request's query (GET /report): validate the query (zod), read the
 * window's events, build and render. Who may ask is decided by the route (src/metrics/http.ts).
 */
import type { Kysely } from 'kysely';
import type { Locale } from '../../dialogs/flow';
import type { Translator } from '../i18n';
import type { Database } from '../storage/schema';
import { renderReportPage } from './page';
import { reportQuery, reportWindow } from './params';
import { loadCaseReport } from './cases-query';
import { loadSatisfactionReport } from './satisfaction-query';
import { loadHandoffReport } from './handoff-report';
import { loadFunnelEvents } from './query';
import { buildReport } from './report';
import { stepLabels } from './step-labels';

export type ReportPageResult = { ok: true; locale: Locale; html: string } | { ok: false; problems: string[] };

export interface ReportPages {
  /** `query`: each parameter's values as given (a repeated parameter is refused). */
  render(query: Record<string, string | string[]>): Promise<ReportPageResult>;
}

export interface ReportPagesDeps {
  db: () => Kysely<Database>;
  translator: Translator;
  /** FUNNEL_IDLE_MINUTES: a conversation idle this long without an ending is abandoned. */
  idleMinutes: number;
  clock?: () => Date;
}

export function createReportPages(deps: ReportPagesDeps): ReportPages {
  const labels = stepLabels(deps.translator);
  const clock = deps.clock ?? (() => new Date());
  return {
    async render(query) {
      const parsed = reportQuery.safeParse(query);
      // Names the parameter and the rule, never echoes the value (it may be anything).
      if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`) };
      const now = clock();
      let span;
      try {
        span = reportWindow(parsed.data, now, deps.idleMinutes);
      } catch (err) {
        if (err instanceof RangeError) return { ok: false, problems: [`from: ${err.message}`] };
        throw err;
      }
      const report = buildReport(await loadFunnelEvents(deps.db(), span), { ...span, now });
      report.cases = await loadCaseReport(deps.db(), span);
      report.satisfaction = await loadSatisfactionReport(deps.db(), span, report.total.deflected);
      report.handoff = await loadHandoffReport(deps.db(), span);
      const locale = parsed.data.lang;
      return { ok: true, locale, html: await renderReportPage(report, deps.translator, locale, { stepLabel: labels(locale) }) };
    },
  };
}
