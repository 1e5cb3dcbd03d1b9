/**
 * GET /report: the funnel report page (src/funnel/page.ts) for the support managers, served where
 * /metrics is and behind the same check (src/metrics/http.ts decides who may read before this runs).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReportPages } from '../funnel/pages';
import { REPORT_PAGE_CSP } from '../funnel/page';
import type { Logger } from '../log';

export const REPORT_PATH = '/report';

const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': REPORT_PAGE_CSP,
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
} as const;

/** The query's parameters, each with all its values (so a repeated one can be refused, not guessed). */
export function queryOf(url: string | undefined): Record<string, string | string[]> {
  const params = new URL(url ?? '/', 'http://report.invalid').searchParams;
  return Object.fromEntries([...new Set(params.keys())].map((k) => {
    const all = params.getAll(k);
    return [k, all.length === 1 ? all[0]! : all];
  }));
}

export async function answerReport(pages: ReportPages, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  try {
    const result = await pages.render(queryOf(req.url));
    if (!result.ok) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(`Bad request.\n${result.problems.join('\n')}\n`);
      return;
    }
    res.writeHead(200, { ...PAGE_HEADERS, 'Content-Language': result.locale });
    res.end(result.html);
  } catch (err) {
    logger.error({ err }, 'funnel report could not be built');
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('The report could not be built. It has been logged.\n');
  }
}
