/**
 * `servicenow`: a record through the Table API (`POST /api/now/table/{table}`, basic auth). The
 * case reference goes in `correlation_id`; before creating, the backend looks for a record with
 * that correlation id, so a repeat after a lost answer finds the first record instead of filing two.
 * Redirects are not followed: the Basic credentials and the case go to the configured instance only.
 */
import { z } from 'zod';
import type { CasePayload } from '../schema';
import { DeliveryError, httpFailure, networkFailure, retryAfterMs, type CaseBackend, type DeliveryResult } from './types';

export const CORRELATION_DISPLAY = 'pce-support-bot';

export interface ServiceNowOptions {
  instanceUrl: string;
  table: string;
  username: string;
  password: string;
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return '';
  }
  const r = failure.safeParse(parsed);
  if (!r.success) return '';
  const line = r.data.error.message
    .replace(/[\p{Cc}\s]+/gu, ' ')
    .replace(/[^\s@]+@[^\s@]+/g, '[email]')
    .trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** The Table API fields: ServiceNow's own names, everything a support engineer needs in `description`. */
export function serviceNowFields(payload: CasePayload): Record<string, string> {
  const c = payload.case;
  return {
    short_description: `${c.requestType}: order ${c.orderNumber ?? 'not known'}, subscription ${c.subscriptionId ?? 'not known'} (${c.reference})`,
    description: payload.summary,
    correlation_id: c.reference,
    correlation_display: CORRELATION_DISPLAY,
    contact_type: 'virtual_agent',
    category: 'request',
  };
}

export function createServiceNowBackend(opts: ServiceNowOptions): CaseBackend {
  const base = `${opts.instanceUrl.replace(/\/+$/, '')}/api/now/table/${encodeURIComponent(opts.table)}`;
  const headers = {
    authorization: `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`,
    accept: 'application/json',
    'content-type': 'application/json',
  };
  const call = async (url: string, init: RequestInit): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
    } catch (err) {
      throw networkFailure('ServiceNow', err);
    }
    const text = await res.text().catch(() => '');
    // A hibernating developer instance, or a wrong URL, redirects to a sign-in page: retried like
    // other failures (it may wake up, the URL may be fixed), never followed.
    if (res.status >= 300 && res.status < 400) {
      throw new DeliveryError(`ServiceNow answered HTTP ${res.status}, a redirect, which is not followed: check SERVICENOW_INSTANCE_URL and that the instance is awake`, false);
    }
    if (!res.ok) throw httpFailure('ServiceNow', res.status, errorMessage(text), retryAfterMs(res.headers));
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new DeliveryError('ServiceNow answered with a body that is not JSON', false, { cause: err });
    }
  };
  const idOf = (r: z.infer<typeof record>) => r.number ?? r.sys_id;

  return {
    name: 'servicenow',
    async deliver(payload: CasePayload): Promise<DeliveryResult> {
      const query = new URLSearchParams({
        sysparm_query: `correlation_id=${payload.case.reference}^correlation_display=${CORRELATION_DISPLAY}`,
        sysparm_fields: 'sys_id,number',
        sysparm_limit: '1',
      });
      const existing = found.safeParse(await call(`${base}?${query}`, { method: 'GET' }));
      if (existing.success && existing.data.result[0]) return { externalId: idOf(existing.data.result[0]) };

      const answer = created.safeParse(
        await call(`${base}?sysparm_fields=sys_id,number`, { method: 'POST', body: JSON.stringify(serviceNowFields(payload)) }),
      );
      if (!answer.success) throw new DeliveryError('ServiceNow answered without a sys_id', false);
      return { externalId: idOf(answer.data.result) };
    },
  };
}
