/**
 * Does what follows from each change of a hand-off (./jobs-repository.ts), on the one polling loop
 * every worker uses (src/workers/poll-loop.ts), on any instance: posts the request to the expert
 * spaces, shows on the cards what became of it, passes messages each way, and tells the person
 * (an engineer took it, the chat ended, nobody came) with a turn of the hand-off flow
 * (src/channels/proactive-turns.ts), which asks its question with buttons. Each pass first expires
 * requests whose wait ran out. A job that fails is tried again later; a crash between doing one and
 * marking it done can repeat it after the lease, as with every outbox. Relayed words and the case
 * data are personal data: never logged.
 */
import { randomUUID } from 'node:crypto';
import { HANDOFF_ENDED_EVENT, HANDOFF_EXPIRED_EVENT, HANDOFF_TAKEN_EVENT, type HandoffEventData } from '../../dialogs/handoff/steps';
import { attachmentRef } from '../../dialogs/flow';
import type { ChannelNotifier } from '../channels/notify';
import type { ProactiveResult, ProactiveTurns } from '../channels/proactive-turns';
import type { Translator } from '../i18n';
import type { Logger } from '../log';
import type { Store } from '../storage/store';
import { PollLoop } from '../workers/poll-loop';
import type { HandoffJobsRepository, Job } from './jobs-repository';
import type { HandoffRecord, HandoffRepository } from './repository';
import type { CardState, ExpertSpaces } from './spaces';

export interface HandoffWorkerOptions {
  repository: HandoffRepository;
  jobs: HandoffJobsRepository;
  spaces: ExpertSpaces;
  turns: ProactiveTurns;
  notifier: ChannelNotifier;
  store: Pick<Store, 'loadConversation'>;
  translator: Translator;
  logger: Logger;
  pollMs: number;
  leaseMs: number;
  clock?: () => Date;
  workerId?: string;
  batchSize?: number;
  /** A request nobody took in time (metrics). */
  onExpired?: () => void;
}

/** Attempts after which a job is given up (logged as an error). */
const MAX_ATTEMPTS = 10;
const MAX_RETRY_MS = 5 * 60_000;
const SLOT = '\u0000';

export interface HandoffPass {
  expired: number;
  claimed: number;
}

export class HandoffWorker {
  private readonly loop: PollLoop<HandoffPass>;
  private readonly workerId: string;
  private readonly clock: () => Date;
  private readonly batchSize: number;

  constructor(private readonly opts: HandoffWorkerOptions) {
    this.workerId = opts.workerId ?? `handoffs-${randomUUID()}`;
    this.clock = opts.clock ?? (() => new Date());
    this.batchSize = opts.batchSize ?? 20;
    this.loop = new PollLoop({
      pass: () => this.runOnce(),
      more: (r) => r.claimed >= this.batchSize,
      failed: { expired: 0, claimed: 0 },
      pollMs: opts.pollMs,
      logger: opts.logger,
      name: 'hand-offs',
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Something changed here: look soon rather than at the next poll. */
  kick(): void {
    this.loop.kick();
  }

  /** Resolves when the pass in progress, if any, has finished (tests, shutdown). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  /** One pass: expire what waited too long, then do the due jobs in order (for tests and the loop). */
  async runOnce(): Promise<HandoffPass> {
    const { repository, jobs, leaseMs } = this.opts;
    const expired = await repository.expireDue(this.clock());
    for (const _ of expired) this.opts.onExpired?.();
    const claimed = await jobs.claimDue({ workerId: this.workerId, now: this.clock(), leaseMs, limit: this.batchSize });
    for (const job of claimed) await this.attempt(job);
    return { expired: expired.length, claimed: claimed.length };
  }

  private async attempt(job: Job): Promise<void> {
    const { jobs, repository, logger } = this.opts;
    const log = { handoff: job.handoffId, job: job.kind, attempt: job.attempts + 1 };
    try {
      const h = await repository.find(job.handoffId);
      if (h) await this.run(job, h);
      await jobs.settle(job.seq, this.workerId, { status: 'done' });
    } catch (err) {
      const failed = job.attempts + 1 >= MAX_ATTEMPTS;
      if (failed) logger.error({ ...log, err }, 'hand-off job failed for good');
      else logger.warn({ ...log, err }, 'hand-off job failed; will try again');
      const retryAt = new Date(this.clock().getTime() + Math.min(this.opts.pollMs * 2 ** job.attempts, MAX_RETRY_MS));
      await jobs.settle(job.seq, this.workerId, failed ? { status: 'failed' } : { status: 'pending', retryAt }).catch(() => undefined);
    }
  }

  private async run(job: Job, h: HandoffRecord): Promise<void> {
    const { spaces, repository, logger } = this.opts;
    switch (job.kind) {
      case 'post_request': {
        for (const space of await spaces.ready()) {
          if (h.cards[space.name] || h.status !== 'waiting') continue;
          await repository.recordCard(h.id, space.name, await space.post(h));
        }
        return;
      }
      case 'update_cards': {
        for (const name of Object.keys(h.cards)) {
          const space = spaces.get(name);
          const card = space && (await space.update(h, job.payload as CardState));
          if (space && card) await repository.recordCard(h.id, space.name, card);
        }
        return;
      }
      case 'relay_to_expert': {
        const space = spaces.get(h.takenIn);
        const files = attachmentRef.array().parse(job.payload.files ?? []);
        if (space) await space.relay(h, String(job.payload.text ?? ''), files);
        return;
      }
      case 'relay_to_person':
        return this.relayToPerson(h, String(job.payload.name ?? ''), String(job.payload.text ?? ''));
      case 'tell_taken':
        return this.tell(h, HANDOFF_TAKEN_EVENT, { stage: 'live', handoff: { id: h.id, expert: h.takenByName }, draft: h.caseInput.draft });
      case 'tell_ended':
        return this.tell(h, HANDOFF_ENDED_EVENT, { stage: 'ended', handoff: { id: h.id, expert: h.takenByName, endedBy: 'expert' }, draft: h.caseInput.draft });
      case 'tell_expired': {
        const waitMinutes = Math.round((Date.parse(h.waitUntil) - Date.parse(h.requestedAt)) / 60_000);
        return this.tell(h, HANDOFF_EXPIRED_EVENT, { stage: 'expired', handoff: { id: h.id, waitMinutes }, draft: h.caseInput.draft });
      }
      default:
        logger.warn({ handoff: h.id, job: job.kind }, 'hand-off job of an unknown kind; skipped');
    }
  }

  /** A turn of the hand-off flow in the person's conversation; a conversation gone (retention) is dropped. */
  private async tell(h: HandoffRecord, name: string, data: HandoffEventData): Promise<void> {
    const result: ProactiveResult = await this.opts.turns.run(h.conversationKey, { name, id: h.id, data });
    this.opts.logger.info({ handoff: h.id, event: name, result }, 'hand-off told to the person');
  }

  private async relayToPerson(h: HandoffRecord, name: string, text: string): Promise<void> {
    const { notifier, store, translator, logger } = this.opts;
    const locale = (await store.loadConversation(h.conversationKey))?.locale ?? h.locale;
    const line = translator.t(locale, 'handoff:relay.fromExpert', { name, text: SLOT }).replace(SLOT, () => text);
    const result = await notifier.notify(h.conversationKey, [line], locale);
    if (result === 'unreachable') logger.warn({ handoff: h.id }, 'the engineer’s message could not reach the person’s conversation');
  }
}
