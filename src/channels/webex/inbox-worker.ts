/**
 * The worker over the durable inbox (`webex_inbox`): a notification the webhook kept (claimed by this
 * instance) is queued at once; one acknowledged but not finished (the process died, or another
 * instance did and its claim lapsed) is claimed again by the leased polling loop every worker of the
 * bot uses (src/workers/poll-loop.ts), first at start, so a restart resumes it. Notifications of one
 * space are handled one after another in arrival order (a KeyedMutex per space); the claim on each is
 * renewed from the moment it is queued until it is done, and a holder that loses it stops. The turn
 * marks the row `turned` in its own transaction; the worker marks it `handled` or `failed`.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log';
import type { Store } from '../../storage/store';
import { KeyedMutex } from '../../storage/keyed-mutex';
import { PollLoop } from '../../workers/poll-loop';
import { WebexUnknownOutcomeError } from './api';
import { InboxClaim } from './claim';
import type { WebexRepository } from './inbox-repository';
import { notificationSchema, storable, type ClaimedJob, type Job, type Notification } from './notification';

export interface WebexInboxOptions {
  /** How often unfinished notifications (of an instance that died, or of an earlier run) are looked for. */
  pollMs?: number;
  /** How long a claim on a notification holds before another instance may take it over. */
  leaseMs?: number;
  /** Claims of one notification before it is given up as failed. */
  maxAttempts?: number;
  /** Finished notifications are kept this long (re-deliveries are recognised meanwhile), then pruned. */
  retentionMs?: number;
  /** Identifies this instance's claims; random by default. */
  workerId?: string;
}

/** What handles a claimed notification: its turn and replies, and the apology when that failed. */
export interface NotificationHandler {
  handle(job: ClaimedJob): Promise<void>;
  apologise(roomId: string | undefined): Promise<void>;
}

/** Read when used: the store may be built after the channel (see channel.ts). */
export interface WebexInboxWorkerDeps {
  readonly store: Store;
  logger: Logger;
}

const INBOX_DEFAULTS = { pollMs: 10_000, leaseMs: 5 * 60_000, maxAttempts: 5, retentionMs: 7 * 24 * 3600_000 } as const;
const PRUNE_EVERY_MS = 3600_000;
const CLAIM_BATCH = 50;

export class WebexInboxWorker {
  readonly workerId: string;
  private readonly options: Required<Omit<WebexInboxOptions, 'workerId'>>;
  private readonly loop: PollLoop<number>;
  /** Per space: notifications of one space are handled (and answered) in arrival order. */
  private readonly spaces = new KeyedMutex();
  private readonly pending = new Set<Promise<void>>();
  /** Notification ids waiting or being handled here, so a pass never queues one twice. */
  private readonly queued = new Set<string>();
  private lastPrune = 0;

  constructor(
    private readonly deps: WebexInboxWorkerDeps,
    private readonly inbox: () => WebexRepository,
    private readonly handler: NotificationHandler,
    private readonly clock: () => Date,
    options: WebexInboxOptions = {},
  ) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...INBOX_DEFAULTS, ...defined };
    this.workerId = options.workerId ?? `webex-${randomUUID()}`;
    this.loop = new PollLoop({
      name: 'Webex inbox',
      pass: () => this.resumeUnfinished(),
      more: (claimed) => claimed >= CLAIM_BATCH,
      failed: 0,
      pollMs: this.options.pollMs,
      logger: deps.logger,
    });
  }

  /** Starts looking for unfinished notifications; the first pass runs at once. */
  start(): void {
    this.loop.start();
  }

  /** Stops looking (shutdown) and waits for the pass in progress; what is queued is finished by drain(). */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** True while notifications are waiting or being handled. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Resolves when every notification received or claimed so far has been handled. */
  async drain(): Promise<void> {
    while (this.pending.size || this.loop.passing) {
      await this.loop.idle();
      await Promise.allSettled([...this.pending]);
    }
  }

  /**
   * Keeps a verified notification, claimed by this instance from `at`. False when it was kept before
   * (a re-delivery): its first delivery is (or was) handled. Throws when the store cannot take it.
   */
  keep(n: Notification, at: Date): Promise<boolean> {
    return this.inbox().receive(
      { notificationId: n.data.id, roomId: n.data.roomId, resource: n.resource, notification: storable(n) },
      { workerId: this.workerId, now: at, leaseMs: this.options.leaseMs },
    );
  }

  /**
   * One pass over the inbox: claims notifications that were acknowledged but not finished (their
   * instance died, or this process was stopped) and queues them. Returns how many were claimed.
   */
  async resumeUnfinished(): Promise<number> {
    const repository = this.inbox();
    const { logger } = this.deps;
    const now = this.clock();
    const claimed = await repository.claimDue({
      workerId: this.workerId,
      now,
      leaseMs: this.options.leaseMs,
      limit: CLAIM_BATCH,
      // One process owns a SQLite file: a claim by anyone else belongs to a process that is gone.
      takeOverOtherWorkers: this.deps.store.kind === 'sqlite',
    });
    for (const entry of claimed) {
      if (this.queued.has(entry.notificationId)) continue;
      const parsed = notificationSchema.safeParse(entry.notification);
      if (!parsed.success) {
        await repository.markFailed(entry.notificationId, 'the stored notification is not valid', now);
        continue;
      }
      if (entry.attempts > this.options.maxAttempts) {
        logger.error({ notification: entry.notificationId, attempts: entry.attempts - 1 }, 'Webex notification given up after repeated attempts');
        await repository.markFailed(entry.notificationId, `gave up after ${entry.attempts - 1} attempts`, now);
        continue;
      }
      logger.info({ notification: entry.notificationId, status: entry.status, room: entry.roomId }, 'Webex: resuming a notification acknowledged earlier');
      this.enqueue({ n: parsed.data, status: entry.status === 'turned' ? 'turned' : 'pending' }, now);
    }
    if (now.getTime() - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now.getTime();
      await repository.pruneFinished(new Date(now.getTime() - this.options.retentionMs));
    }
    return claimed.length;
  }

  /** Queues a notification this instance claimed at `claimedAt`; the claim is renewed from now until it is done. */
  enqueue(job: Job, claimedAt: Date): void {
    const id = job.n.data.id;
    if (this.queued.has(id)) return;
    this.queued.add(id);
    const claim = this.claimOn(id, claimedAt).start();
    const task = this.spaces.run(job.n.data.roomId ?? `notification:${id}`, () => this.process({ ...job, claim }));
    this.pending.add(task);
    void task.finally(() => {
      claim.stop();
      this.queued.delete(id);
      this.pending.delete(task);
    });
  }

  /** This instance's claim on a notification, renewed in the inbox. */
  private claimOn(notificationId: string, claimedAt: Date): InboxClaim {
    const repository = this.inbox();
    const { leaseMs } = this.options;
    return new InboxClaim({
      notificationId,
      claimedAt,
      leaseMs,
      clock: this.clock,
      logger: this.deps.logger,
      renew: (now) => repository.renewClaim(notificationId, { workerId: this.workerId, now, leaseMs }),
    });
  }

  private async process(job: ClaimedJob): Promise<void> {
    const { n, claim } = job;
    const { logger } = this.deps;
    const ctx = { resource: n.resource, event: n.event, notification: n.data.id, room: n.data.roomId };
    try {
      await claim.hold(); // it may have waited long behind earlier notifications of its space
      await this.handler.handle(job);
    } catch (err) {
      if (claim.lost) {
        // Another instance holds it now and answers it: nothing more from here, not even an apology.
        logger.warn({ ...ctx, err }, 'Webex: stopped handling a notification another instance took over');
        return;
      }
      if (err instanceof WebexUnknownOutcomeError) {
        // A reply got no answer from Webex and may well have arrived; it was not sent again. An apology
        // ("send your last message again") would answer a step the person may be looking at.
        logger.error({ ...ctx, err }, 'Webex: a reply may not have reached the space; not sent again, so it cannot show twice');
      } else {
        logger.error({ ...ctx, err }, 'Webex notification could not be handled');
        await this.handler.apologise(n.data.roomId).catch((e: unknown) => logger.error({ ...ctx, err: e }, 'Webex apology could not be sent'));
      }
      await this.inbox()
        .markFailed(n.data.id, err instanceof Error ? err.message : String(err), this.clock())
        .catch((e: unknown) => logger.warn({ ...ctx, err: e }, 'Webex notification could not be marked failed; it will be resumed'));
      return;
    }
    claim.stop();
    await this.inbox()
      .markHandled(n.data.id, this.clock())
      .catch((err: unknown) => logger.warn({ ...ctx, err }, 'Webex notification could not be marked handled; it will be resumed'));
  }
}
