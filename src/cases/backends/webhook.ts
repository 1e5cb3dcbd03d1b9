/**
 * `webhook`: POST of the case JSON to CASE_WEBHOOK_URL. The body is signed with HMAC-SHA256
 * (`X-Signature-256: sha256=<hex>`, the GitHub convention) and carries `Idempotency-Key: <reference>`
 * so a receiver can drop the repeat of a delivery whose answer was lost. Redirects are not followed:
 * the signed case, personal data included, goes to the configured address or nowhere.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { CasePayload } from '../schema';
import { DeliveryError, httpFailure, networkFailure, retryAfterMs, type CaseBackend, type DeliveryResult } from './types';

export const SIGNATURE_HEADER = 'x-signature-256';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Receivers may answer with the id they filed the case under; any of these names is taken. */
const receipt = z.looseObject({
  id: z.union([z.string(), z.number()]).optional(),
  ticketId: z.union([z.string(), z.number()]).optional(),
  number: z.union([z.string(), z.number()]).optional(),
});

export interface WebhookOptions {
  url: string;
  secret: string;
  timeoutMs?: number;
}

export function createWebhookBackend(opts: WebhookOptions): CaseBackend {
  return {
    name: 'webhook',
    async deliver(payload: CasePayload): Promise<DeliveryResult> {
      const body = JSON.stringify({ type: 'support_case', ...payload });
      let res: Response;
      try {
        res = await fetch(opts.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            [SIGNATURE_HEADER]: signBody(body, opts.secret),
            [IDEMPOTENCY_HEADER]: payload.case.reference,
            'user-agent': 'pce-support-bot',
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
      } catch (err) {
        throw networkFailure('The case webhook', err);
      }
      const text = await res.text().catch(() => '');
      // A redirect of a POST to the configured URL is a misconfiguration (or someone steering cases
      // elsewhere). Retried like other failures, so the case waits while an operator fixes the URL;
      // where it pointed is not followed, nor logged.
      if (res.status >= 300 && res.status < 400) {
        throw new DeliveryError(`The case webhook answered HTTP ${res.status}, a redirect, which is not followed: set CASE_WEBHOOK_URL to the address that takes the case`, false);
      }
      if (!res.ok) throw httpFailure('The case webhook', res.status, '', retryAfterMs(res.headers));
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : {};
      } catch {
        json = {};
      }
      const parsed = receipt.safeParse(json);
      const id = parsed.success ? (parsed.data.ticketId ?? parsed.data.number ?? parsed.data.id) : undefined;
      return { externalId: id === undefined ? undefined : String(id) };
    },
  };
}
