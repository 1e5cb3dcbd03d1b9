/**
 * Fires due follow-ups (issue 23): a leased worker over `followups` (./repository.ts) on `PollLoop`.
 * Claim, renew the claim right before firing, run the `followupDue` turn through `ProactiveTurns`
 * (the follow-up flow asks "did the provisioning email arrive?" in the person's channel and
 * language), settle. The event's activity id is the follow-up's, so a repeat after a crash between
 * the turn and the settle is handled once by the engine: each follow-up asks once across restarts
 * and instances. A conversation that cannot be reached (deleted by retention, a channel without
 * proactive turns) drops its follow-up quietly. What the guide knew is personal data: never logged.
 */
import { randomUUID } from 'node:crypto';
import { FOLLOWUP_DUE_EVENT, followupDueData, FOLLOWUP_FLOW_ID, type FollowupDueData } from '../../dialogs/followup/contract';
import type { ProactiveTurns } from '../channels/proactive-turns';
import type { ProactiveFlow } from '../engine/proactive';
import type { Logger } from '../log';
import { PollLoop } from '../workers/poll-loop';
import type { FollowupsRepository, StoredFollowup } from './repository';

export interface FollowupWorkerOptions {
  repository: FollowupsRepository;
  /** How a due follow-up reaches the person: a turn of its own in their channel. */
  turns: ProactiveTurns;
  logger: Logger;
  clock?: () => Date;
  workerId?: string;
  pollMs: number;
  leaseMs: number;
  /** After a failed attempt, the follow-up is tried again this much later. */
  retryMs?: number;
  batchSize?: number;
  /** Metrics: fired (the channel took it), dropped (unreachable). */
  onSettled?: (result: 'fired' | 'dropped') => void;
}

export interface FollowupPass {
  claimed: number;
  fired: number;
}

export class FollowupWorker {
  private readonly loop: PollLoop<FollowupPass>;
  private readonly workerId: string;
  private readonly clock: () => Date;
  private readonly batchSize: number;

  constructor(private readonly opts: FollowupWorkerOptions) {
    this.workerId = opts.workerId ?? `followups-${randomUUID()}`;
    this.clock = opts.clock ?? (() => new Date());
    this.batchSize = opts.batchSize ?? 20;
    this.loop = new PollLoop({
      pass: () => this.runOnce(),
      more: (r) => r.claimed >= this.batchSize,
      failed: { claimed: 0, fired: 0 },
      pollMs: opts.pollMs,
      logger: opts.logger,
      name: 'follow-ups',
    });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass: claims due follow-ups and fires each (for tests and the loop). */
  async runOnce(): Promise<FollowupPass> {
    const { repository, leaseMs } = this.opts;
    const claimed = await repository.claimDue({ workerId: this.workerId, now: this.clock(), leaseMs, limit: this.batchSize });
    let fired = 0;
    for (const f of claimed) if (await this.fire(f)) fired += 1;
    return { claimed: claimed.length, fired };
  }

  private async fire(f: StoredFollowup): Promise<boolean> {
    const { repository, turns, logger, leaseMs } = this.opts;
    const log = { followup: f.id, conversation: f.conversationKey, ending: f.ending };
    try {
      const now = this.clock();
      // Cancelled meanwhile (the person wrote), or taken over by another instance: not asked.
      if (!(await repository.renewClaim(f.id, this.workerId, now, new Date(now.getTime() + leaseMs)))) return false;
      const data: FollowupDueData = { id: f.id, ending: f.ending, hours: f.hours, ...(f.intake ? { intake: f.intake } : {}) };
      const result = await turns.run(f.conversationKey, { name: FOLLOWUP_DUE_EVENT, id: f.id, data });
      const status = result === 'unreachable' ? 'dropped' : 'fired';
      await repository.settle(f.id, this.workerId, status, this.clock());
      this.opts.onSettled?.(status);
      logger.info({ ...log, result }, status === 'fired' ? 'follow-up asked' : 'follow-up dropped: the conversation cannot be reached');
      return status === 'fired';
    } catch (err) {
      logger.warn({ ...log, err }, 'follow-up could not be asked; will try again');
      await repository.release(f.id, this.workerId, new Date(this.clock().getTime() + (this.opts.retryMs ?? this.opts.pollMs * 10))).catch(() => undefined);
      return false;
    }
  }
}

/**
 * The follow-up flow for the `followupDue` event (register with the engine's `ProactiveFlows`): its
 * input is the event's data, checked, in the conversation's terms now.
 */
export const followupDueFlow: ProactiveFlow = {
  flow: FOLLOWUP_FLOW_ID,
  input(data, at) {
    const parsed = followupDueData.safeParse(data);
    return parsed.success ? { ...parsed.data, flowInput: { ...at, mode: parsed.data.intake?.flowInput.mode ?? at.mode } } : undefined;
  },
};
