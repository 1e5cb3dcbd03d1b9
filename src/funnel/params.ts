/**
 * What a funnel report covers, asked the same way on the command line (`npm run report -- --days 30`)
 * and at GET /report (`?days=30`): one zod shape, so both refuse the same bad values.
 */
import { z } from 'zod';
import { locale } from '../../dialogs/flow';
import type { ReportFilters } from './report';

const DAY_MS = 24 * 3600_000;
/** A past window reads every event since its start (src/funnel/query.ts): keep a request's cost bounded. */
export const MAX_WINDOW_DAYS = 366;

const isoDate = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v)), 'must be a date such as 2026-11-01 or 2026-11-01T09:00:00Z')
  .transform((v) => new Date(v));

/** The fields of a report request; without refinements, so the command line can extend it. */
export const reportParamsShape = {
  days: z.coerce.number().positive().max(MAX_WINDOW_DAYS).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  /** The language the report is written in. */
  lang: locale.default('en'),
  'idle-minutes': z.coerce.number().positive().max(7 * 24 * 60).optional(),
  /** Filters: only the conversations of one channel, language (locale) or mode. */
  channel: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,40}$/, 'must be a channel id such as msteams or webex')
    .optional(),
  locale: locale.optional(),
  mode: z.enum(['self', 'agent']).optional(),
};

type ParamsIn = { days?: number; from?: Date; to?: Date };

/** The window rules, checked after parsing: one way to name the window, in order, not too long. */
export function windowRules(params: ParamsIn, ctx: z.RefinementCtx): void {
  if (params.days !== undefined && params.from) ctx.addIssue({ code: 'custom', message: 'use either days or from/to', path: ['days'] });
  if (params.from && params.to && params.from.getTime() >= params.to.getTime()) {
    ctx.addIssue({ code: 'custom', message: 'from must be before to', path: ['from'] });
  }
  if (params.from && params.to && params.to.getTime() - params.from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    ctx.addIssue({ code: 'custom', message: `the window may span at most ${MAX_WINDOW_DAYS} days`, path: ['from'] });
  }
}

/** GET /report's query: unknown parameters are refused too (a typo must not silently widen the report). */
export const reportQuery = z.object(reportParamsShape).strict().superRefine(windowRules);
export type ReportParams = z.infer<typeof reportQuery>;

export interface ReportWindow {
  from: Date;
  to: Date;
  idleMs: number;
  only: ReportFilters;
}

/**
 * The window the parameters mean at `now`: the last 7 days unless told otherwise. Throws a RangeError
 * for a `from` without `to` that reaches back further than the longest window.
 */
export function reportWindow(params: Omit<ReportParams, 'lang'>, now: Date, defaultIdleMinutes: number): ReportWindow {
  const to = params.to ?? now;
  const from = params.from ?? new Date(to.getTime() - (params.days ?? 7) * DAY_MS);
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) throw new RangeError(`the window may span at most ${MAX_WINDOW_DAYS} days`);
  const only: ReportFilters = {};
  if (params.channel) only.channel = params.channel;
  if (params.locale) only.locale = params.locale;
  if (params.mode) only.mode = params.mode;
  return { from, to, idleMs: (params['idle-minutes'] ?? defaultIdleMinutes) * 60_000, only };
}
