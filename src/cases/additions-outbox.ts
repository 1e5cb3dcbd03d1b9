/**
 * Pushes additions to open cases (./add-intent.ts) to the case backend (`CaseBackend.addToCase`),
 * with the case outbox's guarantees (./outbox.ts): due additions are claimed with a lease, the claim
 * is held again right before each push, the result is recorded only while the claim is ours; a
 * definite refusal fails the addition, anything else is retried with capped, jittered backoff and
 * never sooner than `Retry-After`, however long it takes. Everything survives a restart in the store,
 * and several instances share the work. What was added is never logged.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import { PollLoop } from '../workers/poll-loop';
import type { CaseAdditionsRepository, StoredCaseAddition } from './additions-repository';
import { DeliveryError, type CaseBackend } from './backends/types';
import { retryDelayMs } from './outbox';
import type { CaseRepository } from './repository';

export interface CaseAdditionsOutboxOptions {
  additions: CaseAdditionsRepository;
  cases: Pick<CaseRepository, 'findByReference'>;
  backend: Pick<CaseBackend, 'name' | 'addToCase'>;
  logger: Logger;
  pollMs: number;
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  batchSize?: number;
  clock?: () => Date;
  random?: () => number;
  workerId?: string;
}

export type AdditionOutcome = 'delivered' | 'retrying' | 'failed';
export type AdditionPass = Record<AdditionOutcome, number>;

export class CaseAdditionsOutbox {
  readonly workerId: string;
  private readonly clock: () => Date;
  private readonly loop: PollLoop<AdditionPass>;
  private readonly batchSize: number;

  constructor(private readonly opts: CaseAdditionsOutboxOptions) {
    this.workerId = opts.workerId ?? `additions-${randomUUID()}`;
    this.clock = opts.clock ?? (() => new Date());
    this.batchSize = opts.batchSize ?? 10;
    this.loop = new PollLoop<AdditionPass>({
      name: 'case additions',
      pass: () => this.runOnce(),
      more: (p) => p.delivered + p.retrying + p.failed >= this.batchSize,
      failed: { delivered: 0, retrying: 0, failed: 0 },
      logger: opts.logger,
      pollMs: opts.pollMs,
    });
  }

  /** An addition was taken: push it soon rather than at the next poll. */
  kick(): void {
    this.loop.kick();
  }

  /** Starts pushing; the first pass runs at once, so what an earlier run left goes now. */
  start(): void {
    this.loop.start();
  }

  /** Stops after the pass in progress; claims of unfinished pushes expire on their own. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  async runOnce(): Promise<AdditionPass> {
    const pass: AdditionPass = { delivered: 0, retrying: 0, failed: 0 };
    const claimed = await this.opts.additions.claimDue({ workerId: this.workerId, now: this.clock(), leaseMs: this.opts.leaseMs, limit: this.batchSize });
    for (const addition of claimed) {
      const outcome = await this.push(addition);
      if (outcome) pass[outcome] += 1;
    }
    return pass;
  }

  /** One push; undefined when the claim passed to another worker (its result is the one recorded). */
  private async push(addition: StoredCaseAddition): Promise<AdditionOutcome | undefined> {
    const { additions, cases, backend, logger, leaseMs } = this.opts;
    const log = { case: addition.reference, addition: addition.id, backend: backend.name, attempt: addition.attempts + 1 };
    const now = this.clock();
    if (!(await additions.holdClaim(addition.id, this.workerId, now, new Date(now.getTime() + leaseMs)))) return undefined;
    try {
      const record = await cases.findByReference(addition.reference);
      if (!record) throw new DeliveryError(`case ${addition.reference} is no longer stored`, true);
      if (!backend.addToCase) throw new DeliveryError(`the ${backend.name} backend takes no additions`, true);
      await backend.addToCase({ additionId: addition.id, reference: addition.reference, text: addition.text, attachments: addition.attachments, case: record });
    } catch (err) {
      return this.failure(addition, err, log);
    }
    if (!(await additions.settle(addition.id, this.workerId, { status: 'delivered', at: this.clock() }))) return undefined;
    logger.info(log, 'case addition pushed');
    return 'delivered';
  }

  private async failure(addition: StoredCaseAddition, err: unknown, log: Record<string, unknown>): Promise<AdditionOutcome | undefined> {
    const { additions, logger } = this.opts;
    const error = err instanceof Error ? err.message : String(err);
    const at = this.clock();
    if (err instanceof DeliveryError && err.permanent) {
      if (!(await additions.settle(addition.id, this.workerId, { status: 'failed', at, error }))) return undefined;
      logger.error({ ...log, err: { message: error } }, 'case addition refused by the receiving system; recorded as failed');
      return 'failed';
    }
    const asked = err instanceof DeliveryError ? err.retryAfterMs : undefined;
    const { retryBaseMs, retryMaxMs } = this.opts;
    const delay = Math.min(retryMaxMs, Math.max(asked ?? 0, retryDelayMs(addition.attempts + 1, retryBaseMs, retryMaxMs, this.opts.random ?? Math.random)));
    if (!(await additions.settle(addition.id, this.workerId, { status: 'pending', at, error, nextAttemptAt: new Date(at.getTime() + delay) }))) return undefined;
    logger.warn({ ...log, err: { message: error }, retryInMs: delay }, 'case addition not pushed; will retry');
    return 'retrying';
  }
}
