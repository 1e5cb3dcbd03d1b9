/**
 * `POST /api/webex`: the webhook receiver. It checks the signature over the exact bytes Webex sent
 * (401 before anything parses a forgery), validates the notification (400), refuses one dated
 * outside the accepted time window (403: a replay of a signed notification), keeps the rest in the
 * durable inbox before answering 200 (503 when the store cannot take it, so Webex delivers it again)
 * and hands it to the inbox worker. Webex disables webhooks that answer slowly or fail, so the
 * answer never waits for the turn.
 */
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import type { Logger } from '../../log';
import type { WebexPerson } from './api';
import { notificationSchema, type Job, type Notification } from './notification';
import { sameId } from './people';
import { SIGNATURE_HEADER, type WebexWebhookVerifier } from './signature';

export const WEBEX_ROUTE = '/api/webex';

/** Where a verified notification goes: kept first (false for a re-delivery), then queued. */
export interface WebhookInbox {
  keep(n: Notification, at: Date): Promise<boolean>;
  enqueue(job: Job, claimedAt: Date): void;
}

export interface WebexWebhookReceiverOptions {
  logger: Logger;
  /** Undefined only with WEBEX_INSECURE_DEV: nothing is verified. */
  verifier?: WebexWebhookVerifier;
  maxBodyBytes: number;
  /** A notification whose event is older than this is refused as a replay. */
  maxNotificationAgeMs: number;
  clock: () => Date;
  /** The bot's identity if already known (to acknowledge its own echoes without keeping them). */
  me: () => WebexPerson | undefined;
  inbox: WebhookInbox;
}

const HANDLED_RESOURCES = new Set(['messages', 'attachmentActions', 'memberships']);
/** How far in the future an event may be dated (Webex's clock against ours) before it is refused as forged. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export class WebexWebhookReceiver {
  /** Raw request bytes captured before restify's body parser turns them into a string. */
  private readonly rawBodies = new WeakMap<Request, Buffer>();

  constructor(private readonly opts: WebexWebhookReceiverOptions) {}

  register(server: Server): void {
    // Before routing (and so before the shared body parser) read the exact bytes: the signature is
    // over them, and restify's reader keeps only a UTF-8 decoded string. The signature is checked
    // here too, so an unsigned or forged request is answered 401 before anything parses its body.
    server.pre((req: Request, res: Response, next: (arg?: false) => void) => {
      if (req.method !== 'POST' || req.getPath() !== WEBEX_ROUTE) return next();
      this.readRaw(req).then(
        (raw) => {
          if (raw === 'too_large') {
            res.send(413, { code: 'PayloadTooLarge', message: `Request body exceeds ${this.opts.maxBodyBytes} bytes` });
            return next(false);
          }
          const { verifier } = this.opts;
          if (verifier && !verifier.verify(raw, req.headers[SIGNATURE_HEADER])) {
            this.opts.logger.warn({ signed: SIGNATURE_HEADER in req.headers, bytes: raw.length }, 'Webex notification with a bad or missing signature rejected');
            res.send(401, { code: 'Unauthorized', message: 'Missing or invalid X-Spark-Signature' });
            return next(false);
          }
          this.rawBodies.set(req, raw);
          // Tell restify's bodyReader the body has been read; jsonBodyParser still gets the text.
          Object.assign(req, { _readBody: true, body: raw.toString('utf8') });
          next();
        },
        () => {
          res.send(400, { code: 'BadRequest', message: 'The request body could not be read' });
          next(false);
        },
      );
    });
    // Async on purpose: restify takes a two-argument handler only when it is an AsyncFunction.
    server.post(WEBEX_ROUTE, async (req: Request, res: Response) => this.receive(req, res));
  }

  private async receive(req: Request, res: Response): Promise<void> {
    const n = this.parse(req);
    if (!n) {
      res.send(400, { code: 'BadRequest', message: 'Not a Webex webhook notification' });
      return;
    }
    // The signature proves Webex sent these bytes, not that it sent them now: a notification
    // captured once could be posted again after the inbox has forgotten its id. Refused with 403
    // (authentic but not acceptable), a body that does not say why, and nothing kept or sent.
    const dated = this.outsideTimeWindow(n);
    if (dated) {
      this.opts.logger.warn({ notification: n.data.id, resource: n.resource, dated }, 'Webex notification refused: its event is outside the accepted time window (a replay, or a clock far off)');
      res.send(403, { code: 'Forbidden', message: 'The notification was refused' });
      return;
    }
    if (!this.worthKeeping(n)) {
      res.send(200, { received: true });
      return;
    }
    // Acknowledge at once, work afterwards; but first keep the notification, so a crash after the 2xx cannot lose it.
    const receivedAt = this.opts.clock();
    let fresh: boolean;
    try {
      fresh = await this.opts.inbox.keep(n, receivedAt);
    } catch (err) {
      // Not kept, so not acknowledged: Webex may deliver it again.
      this.opts.logger.error({ err, notification: n.data.id }, 'Webex notification could not be stored; answered 503');
      res.send(503, { code: 'ServiceUnavailable', message: 'The notification could not be stored; try again later.' });
      return;
    }
    res.send(200, { received: true });
    // A re-delivery of a kept notification: its first delivery is (or was) handled.
    if (fresh) this.opts.inbox.enqueue({ n, status: 'pending' }, receivedAt);
  }

  private parse(req: Request): Notification | undefined {
    const raw = this.rawBodies.get(req);
    let parsed: z.ZodSafeParseResult<Notification> | undefined;
    try {
      parsed = raw ? notificationSchema.safeParse(JSON.parse(raw.toString('utf8'))) : undefined;
    } catch {
      parsed = undefined;
    }
    return parsed?.success ? parsed.data : undefined;
  }

  /**
   * 'stale' when the event is older than the age bound, 'future' when dated beyond the clock skew
   * we allow. A notification without `data.created` passes: Webex always sends it, and a replay
   * cannot remove it without breaking the signature.
   */
  private outsideTimeWindow(n: Notification): 'stale' | 'future' | undefined {
    if (n.data.created === undefined) return undefined;
    const ageMs = this.opts.clock().getTime() - Date.parse(n.data.created);
    if (ageMs > this.opts.maxNotificationAgeMs) return 'stale';
    if (ageMs < -MAX_CLOCK_SKEW_MS) return 'future';
    return undefined;
  }

  /** Notifications that can never lead to an answer are acknowledged without being kept. */
  private worthKeeping(n: Notification): boolean {
    if (n.event !== 'created' || !HANDLED_RESOURCES.has(n.resource)) return false;
    const me = this.opts.me();
    if (!me) return true; // identity not known yet: decided when handled
    const fromBot = !!n.data.personId && sameId(n.data.personId, me.id);
    if (n.resource === 'messages') return !fromBot; // our own replies echo back
    if (n.resource === 'memberships') return fromBot; // someone else joined a space
    return true;
  }

  private readRaw(req: Request): Promise<Buffer | 'too_large'> {
    const limit = this.opts.maxBodyBytes;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) tooLarge = true;
        else chunks.push(chunk);
      });
      req.once('end', () => resolve(tooLarge ? 'too_large' : Buffer.concat(chunks)));
      req.once('error', reject);
      req.once('aborted', () => reject(new Error('request aborted')));
    });
  }
}
