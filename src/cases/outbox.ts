/**
 * The delivery worker over the case outbox. It claims due cases (a lease, so a case held by an
 * instance that died is claimed again), hands each to the backend, and records the result: delivered
 * with the external id; failed, only when the receiving system definitely rejected the case; or
 * retried later, however long the backend stays away (exponential backoff with jitter, capped, and
 * never sooner than its `Retry-After`). Everything it needs survives a restart in the store.
 */
import { randomUUID } from 'node:crypto';
import type { Translator } from '../i18n';
import type { Logger } from '../log';
import type { CaseRepository } from './repository';
import { DeliveryError, type CaseBackend, type DeliveryResult } from './backends/types';
import type { CaseRecord } from './schema';
import { buildCaseSummary } from './summary';
import { PollLoop } from '../workers/poll-loop';

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed';

export interface CaseOutboxOptions {
  repository: CaseRepository;
  backend: CaseBackend;
  translator: Translator;
  logger: Logger;
  /** Identifies this instance's claims; random by default. */
  workerId?: string;
  clock?: () => Date;
  /** [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
  pollMs?: number;
  leaseMs?: number;
  /**
   * Unsuccessful attempts after which a case that still has not reached its backend is overdue:
   * each further attempt is logged as an error instead of a warning. It never fails the case.
   */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  batchSize?: number;
  /** After every attempt (metrics: case deliveries by result). */
  onAttempt?: (backend: string, outcome: DeliveryOutcome) => void;
  /** A case reached the backend (for proactive messages where a channel can send them). */
  onDelivered?: (record: CaseRecord, externalId: string | undefined) => void;
  /** The receiving system rejected a case, which is now failed (the person is told). */
  onRejected?: (record: CaseRecord, reason: string) => void;
}

/** What one pass did (tests synchronise on passes instead of sleeping). */
export type PassCounts = Record<DeliveryOutcome, number>;

/**
 * Delay before retry number `attempt` (1-based): base·2^(attempt-1) capped at max, "equal jitter":
 * at least half of it, so retries spread out without ever coming back almost at once.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class CaseOutbox {
  readonly workerId: string;
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly o: Required<Pick<CaseOutboxOptions, 'pollMs' | 'leaseMs' | 'maxAttempts' | 'retryBaseMs' | 'retryMaxMs' | 'batchSize'>>;
  private readonly loop: PollLoop<PassCounts>;
  private readonly passListeners = new Set<(counts: PassCounts) => void>();

  constructor(private readonly opts: CaseOutboxOptions) {
    this.workerId = opts.workerId ?? `outbox-${randomUUID()}`;
    this.clock = opts.clock ?? (() => new Date());
    this.random = opts.random ?? Math.random;
    this.o = {
      pollMs: opts.pollMs ?? 5_000,
      leaseMs: opts.leaseMs ?? 120_000,
      maxAttempts: opts.maxAttempts ?? 12,
      retryBaseMs: opts.retryBaseMs ?? 10_000,
      retryMaxMs: opts.retryMaxMs ?? 3_600_000,
      batchSize: opts.batchSize ?? 10,
    };
    this.loop = new PollLoop<PassCounts>({
      name: 'case outbox',
      pass: () => this.runOnce(),
      more: (c) => c.delivered + c.retrying + c.failed >= this.o.batchSize,
      failed: { delivered: 0, retrying: 0, failed: 0 },
      pollMs: this.o.pollMs,
      logger: opts.logger,
      onPass: (c) => {
        for (const listener of this.passListeners) listener(c);
      },
    });
  }

  get backendName(): string {
    return this.opts.backend.name;
  }

  /** Starts polling; the first pass runs at once (a restart resumes pending deliveries). */
  start(): void {
    this.loop.start();
  }

  /** Stops polling and waits for the pass in progress; claims of unfinished work expire on their own. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.opts.backend.close?.();
  }

  /** Asks for a pass soon (e.g. right after a case was opened) instead of at the next poll. */
  kick(): void {
    this.loop.kick();
  }

  /**
   * Calls `listener` after each pass the running worker completes (a failed pass counts as one
   * that did nothing). Returns the unsubscribe function.
   */
  onPass(listener: (counts: PassCounts) => void): () => void {
    this.passListeners.add(listener);
    return () => this.passListeners.delete(listener);
  }

  /**
   * One pass: claim what is due, deliver it, record each result. Returns what happened; an attempt
   * whose claim passed to another instance meanwhile is not counted (that instance's result stands).
   */
  async runOnce(): Promise<PassCounts> {
    const counts: PassCounts = { delivered: 0, retrying: 0, failed: 0 };
    const { repository } = this.opts;
    const claimed = await repository.claimDue({
      workerId: this.workerId,
      now: this.clock(),
      leaseMs: this.o.leaseMs,
      limit: this.o.batchSize,
    });
    for (const [i, record] of claimed.entries()) {
      // The lease covers one delivery: renewed before each case after the first of the batch, so
      // slow answers to earlier cases never let another instance send a later one at the same time.
      if (i > 0) {
        const held = await repository.renewClaim(record.reference, this.workerId, new Date(this.clock().getTime() + this.o.leaseMs));
        if (!held) continue;
      }
      const outcome = await this.deliver(record);
      if (outcome !== 'superseded') counts[outcome]++;
    }
    return counts;
  }

  private async deliver(record: CaseRecord): Promise<DeliveryOutcome | 'superseded'> {
    const { repository, backend, logger, translator } = this.opts;
    const attempt = record.delivery.attempts + 1;
    const log = { case: record.reference, backend: backend.name, attempt };
    let result: DeliveryResult;
    try {
      const summary = buildCaseSummary(record, translator, { transcript: true });
      result = await backend.deliver({ case: record, summary });
    } catch (err) {
      return this.recordFailure(record, attempt, err);
    }
    if (!(await repository.markDelivered(record.reference, this.workerId, { externalId: result.externalId, at: this.clock() }))) {
      return this.superseded(record, attempt, 'delivered');
    }
    logger.info({ ...log, externalId: result.externalId }, 'case delivered');
    this.opts.onAttempt?.(backend.name, 'delivered');
    this.hook(record, () => this.opts.onDelivered?.(record, result.externalId));
    return 'delivered';
  }

  /**
   * A definite rejection fails the case; anything else (unreachable, time-out, 5xx, 408, 429, or an
   * unexpected error) leaves it pending for the next attempt, whatever the attempt count.
   */
  private async recordFailure(record: CaseRecord, attempt: number, err: unknown): Promise<DeliveryOutcome | 'superseded'> {
    const { repository, backend, logger } = this.opts;
    const log = { case: record.reference, backend: backend.name, attempt };
    const message = err instanceof Error ? err.message : String(err);
    const at = this.clock();
    if (err instanceof DeliveryError && err.permanent) {
      if (!(await repository.markFailed(record.reference, this.workerId, { error: message, at }))) return this.superseded(record, attempt, 'failed');
      logger.error({ ...log, err: { message } }, 'case rejected by the receiving system; recorded as failed');
      this.opts.onAttempt?.(backend.name, 'failed');
      this.hook(record, () => this.opts.onRejected?.(record, message));
      return 'failed';
    }
    const askedMs = err instanceof DeliveryError ? err.retryAfterMs : undefined;
    const delay = Math.min(this.o.retryMaxMs, Math.max(askedMs ?? 0, retryDelayMs(attempt, this.o.retryBaseMs, this.o.retryMaxMs, this.random)));
    const nextAttemptAt = new Date(at.getTime() + delay);
    if (!(await repository.markRetry(record.reference, this.workerId, { error: message, nextAttemptAt, at }))) return this.superseded(record, attempt, 'retrying');
    const overdue = attempt >= this.o.maxAttempts;
    logger[overdue ? 'error' : 'warn'](
      { ...log, err: { message }, retryInMs: delay, ...(askedMs === undefined ? {} : { retryAfterMs: askedMs }) },
      overdue ? 'case still not delivered after many attempts; it stays pending and will be retried' : 'case delivery failed; will retry',
    );
    this.opts.onAttempt?.(backend.name, 'retrying');
    return 'retrying';
  }

  /** Our claim expired and another instance took the case: its result is the one recorded. */
  private superseded(record: CaseRecord, attempt: number, would: DeliveryOutcome): 'superseded' {
    this.opts.logger.warn(
      { case: record.reference, backend: this.opts.backend.name, attempt, result: would },
      'case delivery result not recorded: the claim expired and another worker holds the case',
    );
    return 'superseded';
  }

  private hook(record: CaseRecord, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.opts.logger.warn({ case: record.reference, err }, 'after-delivery hook failed');
    }
  }
}
