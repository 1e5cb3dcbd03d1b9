/**
 * A small client for the part of the Webex REST API the bot uses. Every response is checked with
 * zod; 429 waits out `Retry-After` and 5xx/network failures are retried with exponential backoff,
 * both a bounded number of times, so a Webex hiccup delays a reply instead of losing it.
 *
 * A POST is not sent again after a failure that leaves its outcome unknown (a timeout or a broken
 * connection once the request may have gone out): Webex may have posted the message, and a second
 * POST would show it twice. It fails with `WebexUnknownOutcomeError` instead. A POST that surely did
 * not go out (the connection was never made) and 429/5xx answers (Webex says it did not take it)
 * are retried as before. Listing the space afterwards to see whether it arrived is no way out: a bot
 * may list a group space's messages only with `mentionedPeople=me`, which never includes its own.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';
import { z } from 'zod';
import type { Logger } from '../../log';

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

export const webexPerson = z.looseObject({
  id: z.string().min(1),
  displayName: z.string().optional(),
  nickName: z.string().optional(),
  emails: z.array(z.string()).optional(),
});
export type WebexPerson = z.infer<typeof webexPerson>;

export const webexMessage = z.looseObject({
  id: z.string().min(1),
  roomId: z.string().min(1),
  roomType: z.string().optional(),
  personId: z.string().min(1),
  personEmail: z.string().optional(),
  text: z.string().optional(),
  markdown: z.string().optional(),
  html: z.string().optional(),
  files: z.array(z.string()).optional(),
  /** Set on a reply in a thread: the message it replies to. */
  parentId: z.string().optional(),
  mentionedPeople: z.array(z.string()).optional(),
  created: z.string().optional(),
});
export type WebexMessage = z.infer<typeof webexMessage>;

export const webexAttachmentAction = z.looseObject({
  id: z.string().min(1),
  type: z.string().optional(),
  messageId: z.string().optional(),
  roomId: z.string().min(1),
  personId: z.string().min(1),
  inputs: z.record(z.string(), z.unknown()).default({}),
  created: z.string().optional(),
});
export type WebexAttachmentAction = z.infer<typeof webexAttachmentAction>;

export const webexWebhook = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  targetUrl: z.string(),
  resource: z.string(),
  event: z.string(),
  filter: z.string().optional(),
  secret: z.string().optional(),
  status: z.string().optional(),
  created: z.string().optional(),
});
export type WebexWebhook = z.infer<typeof webexWebhook>;

const webhookList = z.looseObject({ items: z.array(webexWebhook) });

export interface AdaptiveCardAttachment {
  contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE;
  content: Record<string, unknown>;
}

export interface NewMessage {
  roomId: string;
  /** A reply in the thread of this message (hand-offs: the chat under the request). */
  parentId?: string;
  markdown: string;
  attachments?: AdaptiveCardAttachment[];
}

export interface WebhookSpec {
  name: string;
  targetUrl: string;
  resource: string;
  event: string;
  secret: string;
}

export interface FileInfo {
  name: string;
  contentType: string;
  size?: number;
}

/** A Webex API call failed for good (after the retries it was allowed). */
export class WebexApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number | undefined,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(`Webex API ${method} ${path} failed${status ? ` with ${status}` : ''}: ${hint}`, options);
    this.name = 'WebexApiError';
  }
}

/**
 * A POST got no answer after it may have reached Webex (timeout, connection reset): whether Webex
 * did it is unknown, and it was not sent again, so it cannot have happened twice.
 */
export class WebexUnknownOutcomeError extends WebexApiError {
  constructor(method: string, path: string, options?: { cause?: unknown }) {
    super(method, path, undefined, 'no answer after the request was sent; Webex may have taken it, so it was not sent again', options);
    this.name = 'WebexUnknownOutcomeError';
  }
}

/**
 * Per call: `signal` cancels the call, also while it waits out a 429 or a backoff (rejects with
 * `signal.reason`); `beforeAttempt` runs before the first attempt and each retry, and stops the call
 * by throwing (a claim that is no longer surely ours: a retry after a long wait must not go out then).
 */
export interface CallOptions {
  signal?: AbortSignal;
  beforeAttempt?: () => Promise<void>;
}

export interface WebexApiOptions {
  /** e.g. https://webexapis.com/v1 (no trailing slash needed). */
  baseUrl: string;
  token: string;
  logger: Logger;
  /** Retries after a 5xx or a network failure (not counting 429 waits). */
  maxRetries?: number;
  /** How many 429 answers one call waits out before giving up. */
  maxRateLimitWaits?: number;
  /** First backoff after a 5xx; doubled each time, with jitter. */
  backoffMs?: number;
  /** A Retry-After longer than this is not waited for: the call fails instead. */
  maxRetryAfterMs?: number;
  /** Per-attempt timeout. */
  timeoutMs?: number;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
/** Methods that may be sent again when their outcome is unknown: doing them twice does no more than once. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
/** Failures before any byte of the request left: sending it (again) cannot do anything twice. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export class WebexApi {
  private readonly base: string;
  private readonly origin: string;
  private readonly maxRetries: number;
  private readonly maxRateLimitWaits: number;
  private readonly backoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: WebexApiOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
    this.maxRetries = opts.maxRetries ?? 3;
    this.maxRateLimitWaits = opts.maxRateLimitWaits ?? 5;
    this.backoffMs = opts.backoffMs ?? 500;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 120_000;
    this.timeoutMs = opts.timeoutMs ?? 20_000;
  }

  async me(): Promise<WebexPerson> {
    return webexPerson.parse(await this.json('GET', '/people/me'));
  }

  /** A person's details (`emails`), as the bot may see them: card submissions carry only the person id. */
  async getPerson(id: string): Promise<WebexPerson> {
    return webexPerson.parse(await this.json('GET', `/people/${encodeURIComponent(id)}`));
  }

  async getMessage(id: string): Promise<WebexMessage> {
    return webexMessage.parse(await this.json('GET', `/messages/${encodeURIComponent(id)}`));
  }

  async getAttachmentAction(id: string): Promise<WebexAttachmentAction> {
    return webexAttachmentAction.parse(await this.json('GET', `/attachment/actions/${encodeURIComponent(id)}`));
  }

  /** Posts a message. Not sent again after a failure that leaves it unknown whether it arrived (`WebexUnknownOutcomeError`). */
  async createMessage(message: NewMessage, options: CallOptions = {}): Promise<WebexMessage> {
    return webexMessage.parse(await this.json('POST', '/messages', message, options));
  }

  /** Deletes a message; a message that is already gone counts as deleted. */
  async deleteMessage(id: string, options: CallOptions = {}): Promise<void> {
    await this.request('DELETE', `/messages/${encodeURIComponent(id)}`, { ...options, okStatuses: [404] });
  }

  async listWebhooks(): Promise<WebexWebhook[]> {
    const items: WebexWebhook[] = [];
    let next: string | undefined = `${this.base}/webhooks?max=100`;
    // Webex pages with a `Link: <…>; rel="next"` header.
    for (let page = 0; next && page < 50; page++) {
      const res = await this.request('GET', next);
      items.push(...webhookList.parse(await res.json()).items);
      next = nextLink(res.headers.get('link'));
    }
    return items;
  }

  async createWebhook(spec: WebhookSpec): Promise<WebexWebhook> {
    return webexWebhook.parse(await this.json('POST', '/webhooks', spec));
  }

  async updateWebhook(id: string, update: { name: string; targetUrl: string; secret: string; status: 'active' }): Promise<WebexWebhook> {
    return webexWebhook.parse(await this.json('PUT', `/webhooks/${encodeURIComponent(id)}`, update));
  }

  /**
   * Name, type and size of a file attached to a message (a HEAD request, so nothing is downloaded).
   * Only URLs on the API's own host get the bot token; anything else is not asked.
   */
  async fileInfo(url: string): Promise<FileInfo | undefined> {
    if (!url.startsWith(`${this.origin}/`)) return undefined;
    const res = await this.request('HEAD', url);
    const disposition = res.headers.get('content-disposition') ?? '';
    const name = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ?? /filename="?([^";]+)"?/i.exec(disposition)?.[1];
    const length = Number(res.headers.get('content-length'));
    return {
      name: name ? safeDecode(name) : url.split('/').pop() ?? 'file',
      contentType: res.headers.get('content-type')?.split(';')[0]?.trim() || 'application/octet-stream',
      size: Number.isFinite(length) && length > 0 ? length : undefined,
    };
  }

  private async json(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<unknown> {
    const res = await this.request(method, path, { ...options, body });
    return res.json();
  }

  /** One call with the retry policy. `path` is relative to the base URL or a full URL on it. */
  private async request(
    method: string,
    path: string,
    { body, okStatuses = [], signal, beforeAttempt }: CallOptions & { body?: unknown; okStatuses?: number[] } = {},
  ): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    const shownPath = url.slice(this.origin.length).split('?')[0] ?? path;
    let failures = 0;
    let rateLimitWaits = 0;
    for (;;) {
      signal?.throwIfAborted();
      await beforeAttempt?.();
      const timeout = AbortSignal.timeout(this.timeoutMs);
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.opts.token}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (!IDEMPOTENT_METHODS.has(method) && !surelyNotSent(err)) throw new WebexUnknownOutcomeError(method, shownPath, { cause: err });
        failures += 1;
        if (failures > this.maxRetries) throw new WebexApiError(method, shownPath, undefined, 'Webex could not be reached', { cause: err });
        await this.backoff(failures, method, shownPath, 'network', signal);
        continue;
      }
      if (res.ok || okStatuses.includes(res.status)) return res;
      await res.arrayBuffer().catch(() => undefined); // free the connection
      if (res.status === 429) {
        rateLimitWaits += 1;
        const waitMs = retryAfterMs(res.headers.get('retry-after'));
        if (rateLimitWaits > this.maxRateLimitWaits || waitMs > this.maxRetryAfterMs) {
          throw new WebexApiError(method, shownPath, 429, `rate limited (Retry-After ${res.headers.get('retry-after') ?? 'missing'})`);
        }
        this.opts.logger.warn({ method, path: shownPath, waitMs }, 'Webex rate limit: waiting Retry-After');
        await pause(waitMs, signal);
        continue;
      }
      if (RETRYABLE_STATUS.has(res.status) && failures < this.maxRetries) {
        failures += 1;
        await this.backoff(failures, method, shownPath, res.status, signal);
        continue;
      }
      throw new WebexApiError(method, shownPath, res.status, hintFor(res.status), {
        cause: { trackingId: res.headers.get('trackingid') ?? undefined },
      });
    }
  }

  private async backoff(attempt: number, method: string, path: string, reason: number | string, signal: AbortSignal | undefined): Promise<void> {
    const base = this.backoffMs * 2 ** (attempt - 1);
    const waitMs = Math.round(base / 2 + Math.random() * (base / 2));
    this.opts.logger.warn({ method, path, reason, attempt, waitMs }, 'Webex API failed; retrying');
    await pause(waitMs, signal);
  }
}

/** Sleeps `ms`; a cancelled `signal` ends the wait at once with its reason. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleepMs(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}

/** Whether a fetch failure happened before the request could leave (no connection was made). */
function surelyNotSent(err: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const { code, cause, errors } = e as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    queue.push(cause, ...(Array.isArray(errors) ? errors : []));
  }
  return false;
}

function retryAfterMs(header: string | null): number {
  if (!header) return 1_000;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1_000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : 1_000;
}

function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function hintFor(status: number): string {
  switch (status) {
    case 401:
      return 'the bot token was refused: check WEBEX_BOT_TOKEN (bot tokens do not expire, but regenerating one revokes the old)';
    case 403:
      return 'the bot may not do this (is it still a member of the space?)';
    case 404:
      return 'not found (deleted, or not visible to the bot)';
    case 400:
      return 'Webex rejected the request as invalid';
    default:
      return status >= 500 ? 'Webex kept failing; gave up after retries' : 'unexpected answer';
  }
}
