/**
 * The delivery worker over the case outbox. It claims due cases (a lease, so a case held by an
 * instance that died is claimed again), hands each to the backend, and records the result: delivered
 * with the external id, retried later with exponential backoff and full jitter, or failed for good
 * (a permanent rejection, or too many attempts). Everything it needs survives a restart in the store.
 */
import { randomUUID } from 'node:crypto';
import type { Translator } from '../i18n';
import type { Logger } from '../log';
import type { CaseRepository } from '../storage/cases-repository';
import { DeliveryError, type CaseBackend } from './backends/types';
import type { CaseRecord } from './schema';
import { buildCaseSummary } from './summary';

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
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  batchSize?: number;
  /** After every attempt (metrics: case deliveries by result). */
  onAttempt?: (backend: string, outcome: DeliveryOutcome) => void;
  /** A case reached the backend (for proactive messages where a channel can send them). */
  onDelivered?: (record: CaseRecord, externalId: string | undefined) => void;
}

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
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private started = false;

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
  }

  get backendName(): string {
    return this.opts.backend.name;
  }

  /** Starts polling; the first pass runs at once (a restart resumes pending deliveries). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops polling and waits for the pass in progress; claims of unfinished work expire on their own. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.opts.backend.close?.();
  }

  /** Asks for a pass soon (e.g. right after a case was opened) instead of at the next poll. */
  kick(): void {
    if (this.started && !this.running) this.schedule(0);
  }

  /** One pass: claim what is due, deliver it, record each result. Returns what happened. */
  async runOnce(): Promise<Record<DeliveryOutcome, number>> {
    const counts: Record<DeliveryOutcome, number> = { delivered: 0, retrying: 0, failed: 0 };
    const claimed = await this.opts.repository.claimDue({
      workerId: this.workerId,
      now: this.clock(),
      leaseMs: this.o.leaseMs,
      limit: this.o.batchSize,
    });
    for (const record of claimed) counts[await this.deliver(record)]++;
    return counts;
  }

  private schedule(ms: number): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const pass = this.runOnce()
        .then((c) => c.delivered + c.retrying + c.failed >= this.o.batchSize)
        .catch((err) => {
          this.opts.logger.warn({ err }, 'case outbox pass failed; will try again');
          return false;
        });
      this.running = pass;
      void pass.then((more) => {
        this.running = undefined;
        this.schedule(more ? 0 : this.o.pollMs);
      });
    }, ms);
    this.timer.unref?.();
  }

  private async deliver(record: CaseRecord): Promise<DeliveryOutcome> {
    const { repository, backend, logger, translator } = this.opts;
    const attempt = record.delivery.attempts + 1;
    const log = { case: record.reference, backend: backend.name, attempt };
    let outcome: DeliveryOutcome;
    try {
      const summary = buildCaseSummary(record, translator, { transcript: true });
      const result = await backend.deliver({ case: record, summary });
      await repository.markDelivered(record.reference, this.workerId, { externalId: result.externalId, at: this.clock() });
      logger.info({ ...log, externalId: result.externalId }, 'case delivered');
      outcome = 'delivered';
      try {
        this.opts.onDelivered?.(record, result.externalId);
      } catch (hookErr) {
        logger.warn({ ...log, err: hookErr }, 'after-delivery hook failed');
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const permanent = err instanceof DeliveryError && err.permanent;
      if (permanent || attempt >= this.o.maxAttempts) {
        await repository.markFailed(record.reference, this.workerId, { error: message, at: this.clock() });
        logger.error({ ...log, err: { message }, permanent }, 'case delivery failed for good');
        outcome = 'failed';
      } else {
        const delay = retryDelayMs(attempt, this.o.retryBaseMs, this.o.retryMaxMs, this.random);
        const nextAttemptAt = new Date(this.clock().getTime() + delay);
        await repository.markRetry(record.reference, this.workerId, { error: message, nextAttemptAt, at: this.clock() });
        logger.warn({ ...log, err: { message }, retryInMs: delay }, 'case delivery failed; will retry');
        outcome = 'retrying';
      }
    }
    this.opts.onAttempt?.(backend.name, outcome);
    return outcome;
  }
}
