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
  close?(): Promise<void>;
}

/**
 * A delivery that did not succeed. `permanent`: retrying cannot help (rejected as invalid,
 * unauthorised); the case is recorded as failed. Messages carry no personal data.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}

/** HTTP status rule shared by the HTTP backends: 4xx other than 408/429 is permanent, the rest retried. */
export function httpFailure(system: string, status: number, detail = ''): DeliveryError {
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  return new DeliveryError(`${system} answered HTTP ${status}${detail ? `: ${detail}` : ''}`, permanent);
}

/** A network-level failure (refused, reset, timeout): always retried. */
export function networkFailure(system: string, err: unknown): DeliveryError {
  const cause = (err as { cause?: { code?: string } })?.cause?.code ?? (err as Error)?.name ?? 'error';
  return new DeliveryError(`${system} could not be reached (${cause})`, false, { cause: err });
}
