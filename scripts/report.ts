/**
 * npm run report [-- --days 7 | --from 2026-11-01 --to 2026-11-08] [--lang en|uk] [--idle-minutes 30] [--json]
 * Prints the funnel report for conversations that started in the window, from the configured store
 * (DATABASE_URL: the SQLite file by default, or PostgreSQL). No personal data is read or printed.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { agentTriageFlow } from '../dialogs/agent-triage/machine';
import { provisioningContactFlow } from '../dialogs/provisioning-contact/machine';
import { supportCaseFlow } from '../dialogs/support-case/index';
import { loadConfig } from '../src/config';
import { flowGraph, sampleFlowInput } from '../src/funnel/flow-graph';
import { loadFunnelEvents } from '../src/funnel/query';
import { renderReport } from '../src/funnel/render';
import { buildReport } from '../src/funnel/report';
import { createTranslator } from '../src/i18n';
import { createLogger } from '../src/log';
import { createStore } from '../src/storage/index';

const DAY_MS = 24 * 3600_000;
const isoDate = z
  .string()
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be a date such as 2026-11-01 or 2026-11-01T09:00:00Z')
  .transform((v) => new Date(v));

const args = z
  .object({
    days: z.coerce.number().positive().optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    lang: z.enum(['en', 'uk']).default('en'),
    'idle-minutes': z.coerce.number().positive().optional(),
    json: z.boolean().default(false),
  })
  .refine((a) => !(a.days && a.from), { message: 'use either --days or --from/--to' })
  .parse(
    parseArgs({
      options: {
        days: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        lang: { type: 'string' },
        'idle-minutes': { type: 'string' },
        json: { type: 'boolean' },
      },
    }).values,
  );

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
const now = new Date();
const to = args.to ?? now;
const from = args.from ?? new Date(to.getTime() - (args.days ?? 7) * DAY_MS);
const idleMs = (args['idle-minutes'] ?? config.FUNNEL_IDLE_MINUTES) * 60_000;

const store = createStore(config, logger);
await store.open();
try {
  const events = await loadFunnelEvents(store.db, { from, to });
  const report = buildReport(events, { from, to, now, idleMs });
  if (args.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    const translator = createTranslator();
    // Step names from every flow a conversation can pass through (the guide's own win on a clash).
    const graphs = [
      flowGraph(supportCaseFlow, translator, args.lang, { input: { flowInput: sampleFlowInput(args.lang), draft: {} } }),
      flowGraph(agentTriageFlow, translator, args.lang),
      flowGraph(provisioningContactFlow, translator, args.lang),
    ];
    const labels = new Map(graphs.flatMap((g) => g.nodes.map((n) => [n.id, n.label] as const)));
    process.stdout.write(renderReport(report, translator, args.lang, { stepLabel: (step) => labels.get(step) }));
  }
} finally {
  await store.close();
}
