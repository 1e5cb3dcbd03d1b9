/**
 * Updates pulled from case backends that can give them (issue 21): Smart Bonding's pull queue,
 * ServiceNow's records. A worker on `PollLoop`: each pass asks the backend, stores every update
 * with `CaseUpdatesRepository.record` before asking for the next (a repeated event id is stored
 * once, so several instances may poll the same system), and wakes the notice worker that tells
 * them. An answer the backend could not read is logged without its content and skipped; an update
 * for a case we do not know is logged and dropped; the next pass comes all the same. When the
 * system asks us to wait (`Retry-After`), passes pause until then.
 */
import type { Logger } from '../log';
import { PollLoop } from '../workers/poll-loop';
import { DeliveryError, type CaseBackend, type OpenCase, type PulledItem } from './backends/types';
import type { CaseUpdatesRepository, RecordResult } from './updates-repository';

export interface CaseUpdatesPollerOptions {
  backend: Pick<CaseBackend, 'name' | 'pullUpdates'>;
  updates: Pick<CaseUpdatesRepository, 'record' | 'openCases'>;
  logger: Logger;
  pollMs: number;
  clock?: () => Date;
  /** After an update was stored (wake the notice worker). */
  onStored?: () => void;
}

export type PollCounts = Record<RecordResult | 'skipped', number> & { failed: boolean };

export class CaseUpdatesPoller {
  private readonly loop: PollLoop<PollCounts>;
  private readonly clock: () => Date;
  private pausedUntil = 0;

  constructor(private readonly opts: CaseUpdatesPollerOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.loop = new PollLoop<PollCounts>({
      name: `case updates from ${opts.backend.name}`,
      pass: () => this.runOnce(),
      // One pass already reads until the system has nothing more.
      more: () => false,
      failed: { stored: 0, repeat: 0, unknown: 0, skipped: 0, failed: true },
      pollMs: opts.pollMs,
      logger: opts.logger,
    });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass (for tests and the loop). */
  async runOnce(): Promise<PollCounts> {
    const counts: PollCounts = { stored: 0, repeat: 0, unknown: 0, skipped: 0, failed: false };
    const { backend, logger } = this.opts;
    if (!backend.pullUpdates || this.clock().getTime() < this.pausedUntil) return counts;
    try {
      for await (const item of backend.pullUpdates({ openCases: () => this.openCases() })) await this.take(item, counts);
    } catch (err) {
      counts.failed = true;
      const retryAfterMs = err instanceof DeliveryError ? err.retryAfterMs : undefined;
      if (retryAfterMs) this.pausedUntil = this.clock().getTime() + retryAfterMs;
      logger.warn({ backend: backend.name, err: { message: err instanceof Error ? err.message : String(err) }, ...(retryAfterMs ? { retryAfterMs } : {}) }, 'case updates could not be pulled; will try again');
    }
    return counts;
  }

  private async take(item: PulledItem, counts: PollCounts): Promise<void> {
    const { backend, updates, logger } = this.opts;
    if (item.kind === 'skipped') {
      counts.skipped += 1;
      logger.warn({ backend: backend.name, reason: item.reason }, 'an answer of the support system was skipped');
      return;
    }
    const u = item.update;
    const result = await updates.record({ backend: backend.name, ...u }, this.clock());
    counts[result] += 1;
    const log = { backend: backend.name, case: u.reference, event: u.eventId, status: u.status, result };
    if (result === 'unknown') logger.warn(log, 'case update for a case we do not know; dropped');
    else logger.info(log, 'case update pulled');
    if (result === 'stored') this.opts.onStored?.();
  }

  private async openCases(): Promise<OpenCase[]> {
    const open = await this.opts.updates.openCases(this.opts.backend.name);
    return open.map((c) => {
      const last = c.updates.at(-1);
      return { reference: c.reference, externalId: c.externalId, latest: last && { eventId: last.eventId, status: last.status }, seen: c.updates.map((u) => u.eventId) };
    });
  }
}
