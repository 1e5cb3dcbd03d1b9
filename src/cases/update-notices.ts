/**
 * Tells the person what the support system reported about their case (issue 21), in their
 * conversation and its current language, without their writing first: the new status in plain
 * words, the engineer's note quoted as written, and what is expected of them when the case waits
 * for them. A leased worker over `case_updates` (./updates-repository.ts) on `PollLoop`: claim,
 * renew the claim right before telling, tell through `Notifiers`, mark told; so each update is told
 * once across restarts and instances (a crash between telling and marking can repeat one update,
 * after the lease, as with every outbox). The note is personal data and never goes to the log.
 */
import { randomUUID } from 'node:crypto';
import type { ChannelNotifier } from '../channels/notify';
import type { Locale } from '../engine/types';
import type { Translator } from '../i18n';
import type { Logger } from '../log';
import type { Store } from '../storage/store';
import { PollLoop } from '../workers/poll-loop';
import type { CaseRepository } from './repository';
import type { CaseUpdate, CaseUpdatesRepository } from './updates-repository';

export interface CaseUpdateNoticesOptions {
  updates: CaseUpdatesRepository;
  cases: Pick<CaseRepository, 'findByReference'>;
  notifier: ChannelNotifier;
  store: Pick<Store, 'loadConversation'>;
  translator: Translator;
  logger: Logger;
  pollMs: number;
  leaseMs: number;
  /** After a failed attempt, the update is tried again this much later. */
  retryMs?: number;
  batchSize?: number;
  clock?: () => Date;
  workerId?: string;
}

/** A placeholder no translation contains: the note and ticket id are put in after translating. */
const SLOT = '\u0000';

/** The lines telling `update` in `locale`; the note and ticket id are inserted verbatim (no interpolation, no translation cache). */
export function caseUpdateLines(translator: Translator, locale: Locale, update: Pick<CaseUpdate, 'reference' | 'status' | 'ticketId' | 'message'>): string[] {
  const status = translator.t(locale, `proactive:caseUpdate.statuses.${update.status}`);
  const lines = [
    update.ticketId
      ? translator.t(locale, 'proactive:caseUpdate.statusWithTicket', { reference: update.reference, status, ticketId: SLOT }).replace(SLOT, () => update.ticketId!)
      : translator.t(locale, 'proactive:caseUpdate.status', { reference: update.reference, status }),
  ];
  const note = update.message?.trim();
  if (note) lines.push(translator.t(locale, 'proactive:caseUpdate.note', { message: SLOT }).replace(SLOT, () => note));
  if (update.status === 'waiting_for_customer') lines.push(translator.t(locale, 'proactive:caseUpdate.waitingForYou'));
  return lines;
}

export interface UpdateNoticesPass {
  claimed: number;
  told: number;
}

export class CaseUpdateNotices {
  private readonly loop: PollLoop<UpdateNoticesPass>;
  private readonly workerId: string;
  private readonly clock: () => Date;
  private readonly batchSize: number;

  constructor(private readonly opts: CaseUpdateNoticesOptions) {
    this.workerId = opts.workerId ?? `case-updates-${randomUUID()}`;
    this.clock = opts.clock ?? (() => new Date());
    this.batchSize = opts.batchSize ?? 20;
    this.loop = new PollLoop({
      pass: () => this.runOnce(),
      more: (r) => r.claimed >= this.batchSize,
      failed: { claimed: 0, told: 0 },
      pollMs: opts.pollMs,
      logger: opts.logger,
      name: 'case update notices',
    });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** A new update was stored: tell it soon rather than at the next poll. */
  kick(): void {
    this.loop.kick();
  }

  /** One pass: claims untold updates and tells each (for tests and the loop). */
  async runOnce(): Promise<UpdateNoticesPass> {
    const { updates, leaseMs } = this.opts;
    const claimed = await updates.claimUntold({ workerId: this.workerId, now: this.clock(), leaseMs, limit: this.batchSize });
    let told = 0;
    for (const update of claimed) if (await this.tell(update)) told += 1;
    return { claimed: claimed.length, told };
  }

  private async tell(update: CaseUpdate): Promise<boolean> {
    const { updates, cases, notifier, store, translator, logger, leaseMs } = this.opts;
    const log = { case: update.reference, event: update.eventId, status: update.status };
    try {
      const record = await cases.findByReference(update.reference);
      if (!record) {
        // The case was deleted (retention) after the update arrived: nobody to tell.
        await updates.markTold(update.id, this.workerId, 'unreachable', this.clock());
        return false;
      }
      const now = this.clock();
      if (!(await updates.renewClaim(update.id, this.workerId, now, new Date(now.getTime() + leaseMs)))) return false;
      const locale = (await store.loadConversation(record.conversationKey))?.locale ?? record.locale;
      const result = await notifier.notify(record.conversationKey, caseUpdateLines(translator, locale, update), locale);
      await updates.markTold(update.id, this.workerId, result, this.clock());
      logger.info({ ...log, conversation: record.conversationKey, result }, 'case update told');
      return true;
    } catch (err) {
      logger.warn({ ...log, err }, 'case update could not be told; will try again');
      await updates.release(update.id, this.workerId, new Date(this.clock().getTime() + (this.opts.retryMs ?? this.opts.pollMs * 10))).catch(() => undefined);
      return false;
    }
  }
}
