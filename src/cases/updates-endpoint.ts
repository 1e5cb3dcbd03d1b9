/**
 * `POST /api/cases/events` (issue 21): the case webhook's support system tells us what became of a
 * case. Only with CASE_BACKEND=webhook. The request is signed as our deliveries are: HMAC-SHA256 of
 * the raw body with CASE_WEBHOOK_SECRET in `X-Signature-256: sha256=<hex>`, compared in constant
 * time over the bytes as they arrived (never a re-serialised JSON). Answers: 413 over
 * MAX_EVENT_BYTES, 401 unsigned or wrongly signed, 400 a body not of the contract, 404 an unknown
 * reference, 200 once the update is stored (or was stored before under the same `eventId`: then
 * nobody is told again). The engineer's message is personal data and never logged.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import type { Logger } from '../log';
import type { ServerPlugin } from '../server';
import { SIGNATURE_HEADER } from './backends/webhook';
import { CASE_UPDATE_STATUSES, type CaseUpdatesRepository } from './updates-repository';

export const CASE_EVENTS_PATH = '/api/cases/events';
/** A status event is a few hundred bytes; an engineer's note fits in a few kilobytes. */
export const MAX_EVENT_BYTES = 16 * 1024;

export const caseEventBody = z.strictObject({
  eventId: z.string().trim().min(1).max(200),
  reference: z.string().regex(/^PCE-\d{6,9}$/),
  status: z.enum(CASE_UPDATE_STATUSES),
  ticketId: z.union([z.string().trim().min(1).max(100), z.number().int().nonnegative().transform(String)]).optional(),
  message: z.string().max(4000).optional(),
});
export type CaseEventBody = z.infer<typeof caseEventBody>;

/** True only when `header` is `sha256=<hex>` of exactly `raw` with `secret`. */
export function verifySignature(raw: Buffer, header: string | string[] | undefined, secret: string): boolean {
  if (typeof header !== 'string') return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}

/** The body's bytes as they arrived: the shared body reader keeps them as `rawBody` (JSON) or `body` (anything else). */
function rawBytes(req: Request): Buffer | undefined {
  const r = req as Request & { rawBody?: unknown };
  if (Buffer.isBuffer(r.rawBody)) return r.rawBody;
  if (typeof r.rawBody === 'string') return Buffer.from(r.rawBody, 'utf8');
  if (Buffer.isBuffer(req.body)) return req.body;
  if (typeof req.body === 'string') return Buffer.from(req.body, 'utf8');
  return undefined;
}

export interface CaseEventsEndpointDeps {
  secret: string;
  updates: CaseUpdatesRepository;
  logger: Logger;
  /** The backend name the event ids belong to. */
  backend?: string;
  clock?: () => Date;
  /** Called after a new update was stored (wake the notice worker). */
  onStored?: () => void;
}

export function caseEventsEndpoint(deps: CaseEventsEndpointDeps): ServerPlugin {
  const backend = deps.backend ?? 'webhook';
  const clock = deps.clock ?? (() => new Date());
  async function handle(req: Request, res: Response): Promise<void> {
    const raw = rawBytes(req) ?? Buffer.alloc(0);
    if (raw.length > MAX_EVENT_BYTES) {
      res.send(413, { code: 'PayloadTooLarge', message: `A case event is at most ${MAX_EVENT_BYTES} bytes.` });
      return;
    }
    if (!verifySignature(raw, req.headers[SIGNATURE_HEADER], deps.secret)) {
      deps.logger.warn({ path: CASE_EVENTS_PATH }, 'case event refused: missing or wrong signature');
      res.send(401, { code: 'Unauthorized', message: 'Sign the raw body: X-Signature-256: sha256=<HMAC-SHA256 hex with the shared secret>.' });
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      res.send(400, { code: 'BadRequest', message: 'The body is not JSON.' });
      return;
    }
    const parsed = caseEventBody.safeParse(json);
    if (!parsed.success) {
      // Field paths only: the values may hold the engineer's note.
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))];
      res.send(400, { code: 'BadRequest', message: `Not a case event: check ${fields.join(', ')}.` });
      return;
    }
    const event = parsed.data;
    const result = await deps.updates.record(
      { backend, eventId: event.eventId, reference: event.reference, status: event.status, ticketId: event.ticketId, message: event.message },
      clock(),
    );
    deps.logger.info({ case: event.reference, event: event.eventId, status: event.status, result }, 'case event received');
    if (result === 'unknown') {
      res.send(404, { code: 'NotFound', message: `No case ${event.reference}.` });
      return;
    }
    if (result === 'stored') deps.onStored?.();
    res.send(200, { status: result });
  }
  return {
    name: 'case-events',
    register(server: Server) {
      server.post(CASE_EVENTS_PATH, handle);
    },
  };
}
