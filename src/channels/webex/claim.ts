/**
 * This instance's claim on one inbox notification, kept while the notification waits in its space's
 * queue and while it is handled: renewed every third of the lease, so a long wait on Webex (429
 * `Retry-After` answers can add up to minutes) never lets it lapse and another instance resume it
 * meanwhile. A claim found taken over (or not renewed in time, so another instance may have taken
 * it) is lost: `signal` aborts, which ends the Webex call in progress, and `check()` throws, so the
 * holder posts nothing more for that notification.
 */
import type { Logger } from '../../log';

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

  /** Throws `ClaimLostError` unless the claim is still surely ours: call before anything a person would see. */
  check(): void {
    if (this.opts && !this.lost && this.lapsing(this.opts, this.opts.clock())) this.lose(this.opts, 'it lapsed before it could be renewed');
    if (this.lost) throw this.controller.signal.reason;
  }

  private schedule(opts: ClaimOptions): void {
    const next = () => {
      if (!this.stopped && !this.lost) this.schedule(opts);
    };
    this.timer = setTimeout(() => void this.renewOnce(opts).then(next, next), Math.max(1, opts.leaseMs / 3));
    this.timer.unref?.();
  }

  private async renewOnce(opts: ClaimOptions): Promise<void> {
    const now = opts.clock();
    if (this.lapsing(opts, now)) return this.lose(opts, 'it lapsed before it could be renewed');
    let held: boolean;
    try {
      held = await opts.renew(now);
    } catch (err) {
      // Not known either way: go on while the last renewal holds, and try again.
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
