/**
 * `servicenow`: a record through the Table API (`POST /api/now/table/{table}`, basic auth). The
 * case reference goes in `correlation_id`; before creating, the backend looks for a record with
 * that correlation id, so a repeat after a lost answer finds the first record instead of filing two.
 * Redirects are not followed: the Basic credentials and the case go to the configured instance only.
 */
import { z } from 'zod';
import type { CasePayload } from '../schema';
import { safeJson } from '../../json';
import { requestJson } from './request-json';
import { serviceNowUpdates, type ServiceNowClient } from './servicenow-updates';
import { DeliveryError, type CaseBackend, type DeliveryResult } from './types';

export const CORRELATION_DISPLAY = 'pce-support-bot';

/** Refusals of the look-up are the configuration's, not the case's: the case waits (pending) while they are fixed. */
const SIGN_IN = 'check SERVICENOW_USERNAME and SERVICENOW_PASSWORD, then `npm run cases -- check`';
const READ_ACCESS =
  'the integration user must be able to read the table (it looks a case up by correlation_id before creating it, so a repeat never files a second record): grant read on it, then check with `npm run cases -- check`';

export interface ServiceNowOptions {
  instanceUrl: string;
  table: string;
  username: string;
  password: string;
  /** Choice values of the table's `category` and `contact_type` (SERVICENOW_CATEGORY, SERVICENOW_CONTACT_TYPE). */
  category?: string;
  contactType?: string;
  timeoutMs?: number;
}

const record = z.looseObject({ sys_id: z.string(), number: z.string().optional() });
const created = z.object({ result: record });
const found = z.object({ result: z.array(record) });

const failure = z.object({ error: z.looseObject({ message: z.string() }) });

/**
 * ServiceNow's own reason for a refusal (`{"error":{"message":"…"}}`, e.g. a data policy or a
 * validation error), for the operator: one short line, with anything that looks like an email
 * address masked, since some messages quote the value they refused.
 */
function errorMessage(text: string): string {
  const r = failure.safeParse(safeJson(text));
  if (!r.success) return '';
  const line = r.data.error.message
    .replace(/[\p{Cc}\s]+/gu, ' ')
    .replace(/[^\s@]+@[^\s@]+/g, '[email]')
    .trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** The Table API fields: ServiceNow's own names, everything a support engineer needs in `description`. */
export function serviceNowFields(payload: CasePayload, choices: { category?: string; contactType?: string } = {}): Record<string, string> {
  const c = payload.case;
  return {
    short_description: `${c.requestType}: order ${c.orderNumber ?? 'not known'}, subscription ${c.subscriptionId ?? 'not known'} (${c.reference})`,
    description: payload.summary,
    correlation_id: c.reference,
    correlation_display: CORRELATION_DISPLAY,
    contact_type: choices.contactType ?? 'virtual_agent',
    category: choices.category ?? 'request',
  };
}

export function serviceNowClient(opts: ServiceNowOptions): ServiceNowClient {
  const instance = `${opts.instanceUrl.replace(/\/+$/, '')}/api/now/table/`;
  const tableUrl = (table: string) => `${instance}${encodeURIComponent(table)}`;
  const base = tableUrl(opts.table);
  const headers = {
    authorization: `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`,
    accept: 'application/json',
    'content-type': 'application/json',
  };
  const call = (url: string, init: RequestInit): Promise<unknown> =>
    requestJson({
      system: 'ServiceNow',
      url,
      init: { ...init, headers },
      timeoutMs: opts.timeoutMs ?? 15_000,
      // A hibernating developer instance, or a wrong URL, redirects to a sign-in page.
      onRedirect: 'check SERVICENOW_INSTANCE_URL and that the instance is awake',
      reason: errorMessage,
      body: 'strict',
    });

  /**
   * The look-up before a create is what keeps a repeat from filing a second record, so it must work:
   * a refusal (an integration user that may create but not read) is a configuration problem, retried
   * while an operator fixes it, never a failed case; an answer of another shape never leads to a create.
   */
  const lookUp = async (reference: string): Promise<z.infer<typeof record> | undefined> => {
    const query = new URLSearchParams({
      sysparm_query: `correlation_id=${reference}^correlation_display=${CORRELATION_DISPLAY}`,
      sysparm_fields: 'sys_id,number',
      sysparm_limit: '1',
    });
    let answer: unknown;
    try {
      answer = await call(`${base}?${query}`, { method: 'GET' });
    } catch (err) {
      const refused = err instanceof DeliveryError ? /HTTP (401|403)\b/.exec(err.message)?.[1] : undefined;
      if (refused) throw new DeliveryError(`${(err as Error).message}; ${refused === '401' ? SIGN_IN : READ_ACCESS}`, false, { cause: err });
      throw err;
    }
    const existing = found.safeParse(answer);
    if (!existing.success) throw new DeliveryError(`ServiceNow's look-up by correlation_id answered in an unexpected shape: not creating, so no second record is filed`, false);
    return existing.data.result[0];
  };
  return { tableUrl, call, lookUp };
}

export function createServiceNowBackend(opts: ServiceNowOptions): CaseBackend {
  const client = serviceNowClient(opts);
  const { call, lookUp } = client;
  const base = client.tableUrl(opts.table);
  const idOf = (r: z.infer<typeof record>) => r.number ?? r.sys_id;

  return {
    name: 'servicenow',
    async deliver(payload: CasePayload): Promise<DeliveryResult> {
      const existing = await lookUp(payload.case.reference);
      if (existing) return { externalId: idOf(existing) };

      const answer = created.safeParse(
        await call(`${base}?sysparm_fields=sys_id,number`, { method: 'POST', body: JSON.stringify(serviceNowFields(payload, opts)) }),
      );
      if (!answer.success) throw new DeliveryError('ServiceNow answered without a sys_id', false);
      return { externalId: idOf(answer.data.result) };
    },
    // Status, customer-visible comments and additions from the chat (issue 21).
    ...serviceNowUpdates(client, { table: opts.table, username: opts.username, correlationDisplay: CORRELATION_DISPLAY }),
    /** A dry run of the look-up (no record is written): what an operator must fix before cases can go. */
    async check(): Promise<string[]> {
      try {
        await lookUp('PCE-000000');
        return [];
      } catch (err) {
        return [err instanceof Error ? err.message : String(err)];
      }
    },
  };
}
