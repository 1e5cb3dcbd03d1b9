/**
 * npm run report [-- --days 7 | --from 2026-11-01 --to 2026-11-08] [--lang en|uk] [--idle-minutes 30]
 *                [--channel msteams] [--locale uk] [--mode self|agent] [--json | --html <file>]
 * Prints the funnel report for conversations that started in the window, from the configured store
 * (DATABASE_URL: the SQLite file by default, or PostgreSQL), or writes it as a self-contained page
 * (--html). No personal data is read, printed or written.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '../src/config';
import { renderReportPage } from '../src/funnel/page';
import { reportParamsShape, reportWindow, windowRules } from '../src/funnel/params';
import { loadCaseReport } from '../src/funnel/cases-query';
import { loadSatisfactionReport } from '../src/funnel/satisfaction-query';
import { loadHandoffReport } from '../src/funnel/handoff-report';
import { loadFunnelEvents } from '../src/funnel/query';
import { renderReport } from '../src/funnel/render';
import { buildReport } from '../src/funnel/report';
import { stepLabels } from '../src/funnel/step-labels';
import { createTranslator } from '../src/i18n';
import { createLogger } from '../src/log';
import { createStore } from '../src/storage/index';

const text = { type: 'string' } as const;
const args = z
  .object({ ...reportParamsShape, json: z.boolean().default(false), html: z.string().min(1).optional() })
  .superRefine(windowRules)
  .refine((a) => !(a.json && a.html), { message: 'use either --json or --html' })
  .parse(
    parseArgs({
      options: {
        days: text,
        from: text,
        to: text,
        lang: text,
        'idle-minutes': text,
        channel: text,
        locale: text,
        mode: text,
        json: { type: 'boolean' },
        html: text,
      },
    }).values,
  );

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
const now = new Date();
const span = reportWindow(args, now, config.FUNNEL_IDLE_MINUTES);

const store = createStore(config, logger);
await store.open();
try {
  const events = await loadFunnelEvents(store.db, span);
  const report = buildReport(events, { ...span, now });
  report.cases = await loadCaseReport(store.db, span);
  report.satisfaction = await loadSatisfactionReport(store.db, span, report.total.deflected);
  report.handoff = await loadHandoffReport(store.db, span);
  if (args.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    const translator = createTranslator();
    const stepLabel = stepLabels(translator)(args.lang);
    if (args.html) {
      writeFileSync(args.html, await renderReportPage(report, translator, args.lang, { stepLabel }));
      process.stderr.write(`${args.html}\n`);
    } else {
      process.stdout.write(renderReport(report, translator, args.lang, { stepLabel }));
    }
  }
} finally {
  await store.close();
}
