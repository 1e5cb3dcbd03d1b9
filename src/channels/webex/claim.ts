/**
 * This instance's claim on one inbox notification, kept while the notification waits in its space's
 * queue and while it is handled: renewed every third of the lease, so a long wait on Webex (429
 * `Retry-After` answers can add up to minutes) never lets it lapse and another instance resume it
 * meanwhile. Before anything a person would see (and before each attempt of such a Webex call),
 * `hold()` makes sure the claim is still ours: a claim close to its end (a stalled event loop, a slow
 * store kept the timer from renewing it) is renewed first, and the renewal only succeeds while no
 * other instance has taken the notification. A claim found taken over, or that cannot be renewed
 * once close to its end, is lost: `signal` aborts, which ends the Webex call in progress, and
 * `hold()` throws, so the holder posts nothing more for that notification.
 */
import type { Logger } from '../../log';
import type { CallOptions } from './api';

/** The claim on a notification was lost: its holder stops; whoever holds it now finishes it. */
export class ClaimLostError extends Error {
  constructor(
    readonly notificationId: string,
    reason: string,
  ) {
    super(`the claim on Webex notification ${notificationId} was lost: ${reason}`);
    this.name = 'ClaimLostError';
  }
}

export interface ClaimOptions {
  notificationId: string;
  /** When the claim was taken (or last renewed) and for how long it holds from then. */
  claimedAt: Date;
  leaseMs: number;
  clock: () => Date;
  logger: Logger;
  /** Extends the claim to `now + leaseMs`; false when it is no longer ours. */
  renew: (now: Date) => Promise<boolean>;
}

export class InboxClaim {
  private readonly controller = new AbortController();
  private heldUntil: number;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  /** Without options: a claim nobody else can take (no inbox, so one process and no leases). */
  constructor(private readonly opts?: ClaimOptions) {
    this.heldUntil = opts ? opts.claimedAt.getTime() + opts.leaseMs : Infinity;
  }

  /** Aborts when the claim is lost (its reason: a `ClaimLostError`). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.controller.signal.aborted;
  }

  /** Starts renewing (every third of the lease) until `stop()`. */
  start(): this {
    if (this.opts && !this.stopped) this.schedule(this.opts);
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Resolves while the claim is surely ours; throws `ClaimLostError` when it is not. Call before
   * anything a person would see. Close to the end of the lease it renews first: the timer may not
   * have run in time, which alone is no reason to drop a notification nobody else has taken.
   */
  async hold(): Promise<void> {
    const { opts } = this;
    if (opts && !this.lost && this.lapsing(opts, opts.clock())) await this.renewOnce(opts);
    this.throwIfLost();
  }

  /** Throws `ClaimLostError` if the claim was lost (after a failed call: was that why?). */
  throwIfLost(): void {
    if (this.lost) throw this.controller.signal.reason;
  }

  /** For a Webex call made under this claim: cancelled when it is lost, held again before each attempt. */
  get call(): CallOptions {
    return { signal: this.signal, beforeAttempt: () => this.hold() };
  }

  private schedule(opts: ClaimOptions): void {
    const next = () => {
      if (!this.stopped && !this.lost) this.schedule(opts);
    };
    this.timer = setTimeout(() => void this.renewOnce(opts).then(next, next), Math.max(1, opts.leaseMs / 3));
    this.timer.unref?.();
  }

  /**
   * Extends the claim. The renewal is conditional (still ours, still open), so it is tried even when
   * the claim came close to its end: success proves no other instance took it meanwhile. Only then
   * is a failed renewal (an error: not known either way) a loss; before, it is tried again.
   */
  private async renewOnce(opts: ClaimOptions): Promise<void> {
    const now = opts.clock();
    const lapsing = this.lapsing(opts, now);
    let held: boolean;
    try {
      held = await opts.renew(now);
    } catch (err) {
      if (lapsing) return this.lose(opts, 'it came close to its end and could not be renewed');
      opts.logger.warn({ err, notification: opts.notificationId }, 'Webex: the claim on a notification could not be renewed; trying again');
      return;
    }
    if (this.stopped) return;
    if (held) this.heldUntil = now.getTime() + opts.leaseMs;
    else this.lose(opts, 'another instance took it over');
  }

  /** Too close to the end of the lease to be sure no other instance takes it (a sixth of the lease to spare). */
  private lapsing(opts: ClaimOptions, now: Date): boolean {
    return now.getTime() >= this.heldUntil - opts.leaseMs / 6;
  }

  private lose(opts: ClaimOptions, reason: string): void {
    if (this.lost || this.stopped) return;
    opts.logger.warn({ notification: opts.notificationId, reason }, 'Webex: the claim on a notification was lost; stopping, whoever holds it now answers it');
    this.controller.abort(new ClaimLostError(opts.notificationId, reason));
  }
}
