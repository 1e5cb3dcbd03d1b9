/**
 * `webhook`: POST of the case JSON to CASE_WEBHOOK_URL. The body is signed with HMAC-SHA256
 * (`X-Signature-256: sha256=<hex>`, the GitHub convention) and carries `Idempotency-Key: <reference>`
 * so a receiver can drop the repeat of a delivery whose answer was lost. Redirects are not followed:
 * the signed case, personal data included, goes to the configured address or nowhere.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { CasePayload } from '../schema';
import { requestJson } from './request-json';
import type { CaseAddition, CaseBackend, DeliveryResult } from './types';

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
  /** One signed POST; `key` lets the receiver drop a repeat whose answer was lost. */
  const post = (body: string, key: string): Promise<unknown> =>
    requestJson({
      system: 'The case webhook',
      url: opts.url,
      init: {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          [SIGNATURE_HEADER]: signBody(body, opts.secret),
          [IDEMPOTENCY_HEADER]: key,
          'user-agent': 'pce-support-bot',
        },
        body,
      },
      timeoutMs: opts.timeoutMs ?? 10_000,
      // A redirect of a POST to the configured URL is a misconfiguration (or someone steering cases elsewhere).
      onRedirect: 'set CASE_WEBHOOK_URL to the address that takes the case',
      // The receipt is optional: a receiver may answer with no body, or one that is not JSON.
      body: 'lenient',
    });
  return {
    name: 'webhook',
    /** What the person added in the chat (issue 21), signed like a delivery; the addition id is its idempotency key. */
    async addToCase(addition: CaseAddition): Promise<void> {
      const { reference, additionId, text, attachments } = addition;
      await post(JSON.stringify({ type: 'case.addition', reference, additionId, text, ...(attachments.length ? { attachments } : {}) }), additionId);
    },
    async deliver(payload: CasePayload): Promise<DeliveryResult> {
      const json = await post(JSON.stringify({ type: 'support_case', ...payload }), payload.case.reference);
      const parsed = receipt.safeParse(json);
      const id = parsed.success ? (parsed.data.ticketId ?? parsed.data.number ?? parsed.data.id) : undefined;
      return { externalId: id === undefined ? undefined : String(id) };
    },
  };
}
