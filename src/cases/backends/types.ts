/** What every delivery backend implements, and how it says whether a failure is worth retrying. */
import type { AttachmentRef } from '../../../dialogs/flow';
import type { CaseBackendName, CasePayload, CaseRecord } from '../schema';
import type { CaseUpdateStatus } from '../updates-repository';

export interface DeliveryResult {
  /** The id the receiving system gave the case (ticket number, sys_id), when it gives one. */
  externalId?: string;
}

/** What the support system reported about one case, as a backend reads it (stored by ../updates-poller.ts). */
export interface PulledUpdate {
  /** Unique per backend: the same change read twice (two instances, two polls) has the same id and is stored once. */
  eventId: string;
  reference: string;
  status: CaseUpdateStatus;
  ticketId?: string;
  /** The engineer's note as written (personal data: never logged). */
  message?: string;
}

/**
 * One item of a pull: an update, or an answer that is skipped: malformed, or not for us to tell
 * (`reason` names what was wrong, never a value: the answer may hold personal data). Nothing is
 * stored for a skipped one.
 */
export type PulledItem = { kind: 'update'; update: PulledUpdate } | { kind: 'skipped'; reason: string };

/** A delivered case whose record the backend may poll (ServiceNow), with the last update stored for it. */
export interface OpenCase {
  reference: string;
  externalId?: string;
  latest?: { eventId: string; status: CaseUpdateStatus };
  /** Event ids already stored for the case from this backend (a backend yields only what is new). */
  seen: readonly string[];
}

export interface PullContext {
  /** The backend's delivered cases that are not closed (read only by backends that poll per record). */
  openCases(): Promise<OpenCase[]>;
}

/** What the person added to an open case from the chat (../add-intent.ts), for the backend to pass on. */
export interface CaseAddition {
  /** Unique; receivers de-duplicate a repeated push by it. */
  additionId: string;
  reference: string;
  text: string;
  attachments: AttachmentRef[];
  case: CaseRecord;
}

export interface CaseBackend {
  readonly name: CaseBackendName;
  /** Hands one case over. Throws DeliveryError; anything else thrown counts as retryable. */
  deliver(payload: CasePayload): Promise<DeliveryResult>;
  /** A dry run against the receiving system, writing nothing: the configuration problems it finds (none: []). */
  check?(): Promise<string[]>;
  /**
   * What the support system has to say about cases since the last pull, one item at a time (the
   * poller stores each before it asks for the next). Throws DeliveryError when the system cannot
   * be asked at all; the poller tries again at its next poll.
   */
  pullUpdates?(ctx: PullContext): AsyncIterable<PulledItem>;
  /** Passes an addition on to the delivered case. Throws DeliveryError by the same rules as `deliver`. */
  addToCase?(addition: CaseAddition): Promise<void>;
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
    options?: { cause?: unknown; retryAfterMs?: number; status?: number },
  ) {
    super(message, options);
    this.name = 'DeliveryError';
    this.retryAfterMs = options?.retryAfterMs;
    this.status = options?.status;
  }

  readonly retryAfterMs: number | undefined;
  /** The HTTP status the receiver answered with, when it answered with one. */
  readonly status: number | undefined;
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
    status,
  });
}

/** A network-level failure (refused, reset, timeout): always retried. */
export function networkFailure(system: string, err: unknown): DeliveryError {
  const cause = (err as { cause?: { code?: string } })?.cause?.code ?? (err as Error)?.name ?? 'error';
  return new DeliveryError(`${system} could not be reached (${cause})`, false, { cause: err });
}
