/**
 * Named storage errors. Each keeps its cause and says what a person can do about it, so start-up
 * failures read well in a terminal and turn failures can be logged and answered with an apology.
 */

export class StorageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(hint ? `${message}\nHint: ${hint}` : message, options);
    this.name = 'StorageError';
  }
}

/** DATABASE_URL (or the options passed to createStore) cannot be used. */
export class StorageConfigError extends StorageError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'StorageConfigError';
  }
}

/** The database cannot be reached or went away; it may work again later. */
export class StorageUnavailableError extends StorageError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, hint, options);
    this.name = 'StorageUnavailableError';
  }
}

/** A turn was committed for an activity that is already recorded as processed (handled elsewhere). */
export class DuplicateActivityError extends StorageError {
  constructor(readonly activityKey: string) {
    super(`Activity ${activityKey} was already processed; this turn was not committed.`);
    this.name = 'DuplicateActivityError';
  }
}

/**
 * A commit would overwrite a newer (or the same) turn of a conversation: another turn ran without
 * the conversation lock (e.g. the lock's connection was lost). Nothing of this turn was committed.
 */
export class ConcurrentTurnError extends StorageError {
  constructor(
    readonly conversationKey: string,
    readonly turn: number,
  ) {
    super(`Conversation ${conversationKey} already has turn ${turn} or a later one; this turn was not committed.`);
    this.name = 'ConcurrentTurnError';
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03']);

/** True when an error means the connection (not the query) failed: safe to retry on a fresh connection before anything was written. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection ended/i.test(err.message);
}

const STALE_CODES = new Set(['ECONNRESET', 'EPIPE', '57P01', '57P02']);

/**
 * True when an established (pooled) connection turned out dead: the server closed it (restart,
 * failover, pg_terminate_backend). Another pooled or new connection may well work; a failure to open
 * a new connection is not stale, it means the database is away.
 */
export function isStaleConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && STALE_CODES.has(code)) return true;
  return /Connection terminated unexpectedly|not queryable/i.test(err.message);
}
