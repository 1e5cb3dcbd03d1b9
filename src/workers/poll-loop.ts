/**
 * The loop behind every durable worker (case outbox, reply outbox, Webex inbox): run a pass, then the next one at
 * once when the pass was full (more is waiting) or after `pollMs` otherwise; a failed pass is logged
 * and retried after `pollMs`. `stop()` waits for the pass in progress; what it had claimed is leased,
 * so another process takes it over if this one never finishes.
 */
import type { Logger } from '../log';

export interface PollLoopOptions<T> {
  /** One pass; its result goes to `more` and to `onPass`. */
  pass: () => Promise<T>;
  /** Did the pass fill its batch (run again at once)? */
  more: (result: T) => boolean;
  /** What a failed pass counts as. */
  failed: T;
  pollMs: number;
  logger: Logger;
  /** For the log line of a failed pass, e.g. `case outbox`. */
  name: string;
  onPass?: (result: T) => void;
}

export class PollLoop<T> {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private started = false;

  constructor(private readonly opts: PollLoopOptions<T>) {}

  /** Starts polling; the first pass runs at once (a restart resumes what earlier runs left). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.idle();
  }

  /** True while a pass runs (not while the loop only waits for the next one). */
  get passing(): boolean {
    return this.running !== undefined;
  }

  /** Resolves when the pass in progress, if any, has finished (a failed one too): for drain(). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** Asks for a pass soon instead of at the next poll (no-op while one runs or when stopped). */
  kick(): void {
    if (this.started && !this.running) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const pass = this.opts
        .pass()
        .catch((err: unknown): T => {
          this.opts.logger.warn({ err }, `${this.opts.name} pass failed; will try again`);
          return this.opts.failed;
        })
        .then((result) => {
          this.opts.onPass?.(result);
          return this.opts.more(result);
        });
      this.running = pass;
      void pass.then((more) => {
        this.running = undefined;
        this.schedule(more ? 0 : this.opts.pollMs);
      });
    }, ms);
    this.timer.unref?.();
  }
}
