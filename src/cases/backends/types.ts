/** What every delivery backend implements, and how it says whether a failure is worth retrying. */
import type { CaseBackendName, CasePayload } from '../schema';

export interface DeliveryResult {
  /** The id the receiving system gave the case (ticket number, sys_id), when it gives one. */
  externalId?: string;
}

export interface CaseBackend {
  readonly name: CaseBackendName;
  /** Hands one case over. Throws DeliveryError; anything else thrown counts as retryable. */
  deliver(payload: CasePayload): Promise<DeliveryResult>;
  /** A dry run against the receiving system, writing nothing: the configuration problems it finds (none: []). */
  check?(): Promise<string[]>;
  close?(): Promise<void>;
}

/**
 * A delivery that did not succeed. `permanent`: the receiving system definitely rejected the case
 * (4xx other than 408/429, a 5xx SMTP reply, a ServiceNow validation error); retrying cannot help
 * and the case is recorded as failed. Anything else (unreachable, time-out, 5xx, 408, 429) leaves
 * the case pending, however long it lasts. `retryAfterMs`: how long the receiver asked us to wait
 * (`Retry-After`). Messages carry no personal data.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.name = 'DeliveryError';
    this.retryAfterMs = options?.retryAfterMs;
  }

  readonly retryAfterMs: number | undefined;
}

/**
 * `Retry-After` as milliseconds from now: delta-seconds, or an HTTP date measured against the
 * answer's own `Date` header when it has one (so a skewed clock on either side does not matter).
 * Undefined when absent or unreadable; never negative.
 */
export function retryAfterMs(headers: Pick<Headers, 'get'>, now = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its weekday and month; anything else (a negative number, a word) is unreadable.
  const at = /[a-z]{3}/i.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) return undefined;
  const served = Date.parse(headers.get('date') ?? '');
  return Math.max(0, at - (Number.isNaN(served) ? now : served));
}

/** HTTP status rule shared by the HTTP backends: 4xx other than 408/429 is permanent, the rest retried. */
export function httpFailure(system: string, status: number, detail = '', retryAfter?: number): DeliveryError {
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  return new DeliveryError(`${system} answered HTTP ${status}${detail ? `: ${detail}` : ''}`, permanent, {
    retryAfterMs: permanent ? undefined : retryAfter,
  });
}

/** A network-level failure (refused, reset, timeout): always retried. */
export function networkFailure(system: string, err: unknown): DeliveryError {
  const cause = (err as { cause?: { code?: string } })?.cause?.code ?? (err as Error)?.name ?? 'error';
  return new DeliveryError(`${system} could not be reached (${cause})`, false, { cause: err });
}
