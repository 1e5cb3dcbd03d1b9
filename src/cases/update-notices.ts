/**
 * Tells the person what the support system reported about their case (issue 21), in their
 * conversation and its current language, without their writing first: the new status in plain
 * words, the engineer's note quoted as written, and what is expected of them when the case waits
 * for them. A leased worker over `case_updates` (./updates-repository.ts) on `PollLoop`: claim,
 * renew the claim right before telling, tell through `Notifiers`, mark told; so each update is told
 * once across restarts and instances (a crash between telling and marking can repeat one update,
 * after the lease, as with every outbox). The note is personal data and never goes to the log.
 *
 * The first update that says the case is resolved or closed is told by a turn of its own instead
 * (issue 21 item 5, `ProactiveTurns`): the case-closure flow (dialogs/case-closure/) shows the news
 * and asks whether the problem is solved, with buttons. Its activity id is the update's, so a repeat
 * of the same update after a crash is handled once by the engine.
 */
import { randomUUID } from 'node:crypto';
import { CASE_CLOSED_EVENT, CASE_CLOSURE_FLOW_ID, caseClosedData, type CaseClosedData } from '../../dialogs/case-closure/steps';
import type { ChannelNotifier } from '../channels/notify';
import type { ProactiveResult, ProactiveTurns } from '../channels/proactive-turns';
import type { ProactiveFlow } from '../engine/proactive';
import type { Locale } from '../engine/types';
import type { Translator } from '../i18n';
import type { Logger } from '../log';
import type { Store } from '../storage/store';
import { PollLoop } from '../workers/poll-loop';
import type { CaseRepository } from './repository';
import type { CaseRecord } from './schema';
import type { CaseUpdate, CaseUpdatesRepository } from './updates-repository';

export interface CaseUpdateNoticesOptions {
  updates: CaseUpdatesRepository;
  cases: Pick<CaseRepository, 'findByReference'>;
  notifier: ChannelNotifier;
  /** Turns the bot starts on its own: a case resolved or closed asks whether it is solved. Without it, told in lines. */
  turns?: ProactiveTurns;
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
    const { updates, cases, logger, leaseMs } = this.opts;
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
      const result = (await this.askIfSolved(update, record)) ?? (await this.tellInLines(update, record));
      await updates.markTold(update.id, this.workerId, result, this.clock());
      logger.info({ ...log, conversation: record.conversationKey, result }, 'case update told');
      return true;
    } catch (err) {
      logger.warn({ ...log, err }, 'case update could not be told; will try again');
      await updates.release(update.id, this.workerId, new Date(this.clock().getTime() + (this.opts.retryMs ?? this.opts.pollMs * 10))).catch(() => undefined);
      return false;
    }
  }

  /** The update in lines, in the conversation's language now. */
  private async tellInLines(update: CaseUpdate, record: CaseRecord): Promise<ProactiveResult> {
    const { notifier, store, translator } = this.opts;
    const locale = (await store.loadConversation(record.conversationKey))?.locale ?? record.locale;
    return notifier.notify(record.conversationKey, caseUpdateLines(translator, locale, update), locale);
  }

  /** The case's first resolved or closed update, as a turn of the case-closure flow; undefined for any other. */
  private async askIfSolved(update: CaseUpdate, record: CaseRecord): Promise<ProactiveResult | undefined> {
    const { turns, updates } = this.opts;
    if (!turns || !CLOSING.has(update.status)) return undefined;
    // Asked once per case: a "closed" after a "resolved" is news, not a second question.
    const first = (await updates.history(update.reference)).find((u) => CLOSING.has(u.status));
    if (first && first.id !== update.id) return undefined;
    const data: CaseClosedData = {
      case: { reference: update.reference, status: update.status as 'resolved' | 'closed', ticketId: update.ticketId, note: update.message },
      draft: draftOf(record),
    };
    return turns.run(record.conversationKey, { name: CASE_CLOSED_EVENT, id: update.id, data });
  }
}

const CLOSING: ReadonlySet<string> = new Set(['resolved', 'closed']);

/** What the closed case knew, for a new case if it is not solved (the intake asks for nothing it has). */
function draftOf(record: CaseRecord): CaseClosedData['draft'] {
  const userKey = record.openedBy.userKey;
  return {
    requestType: record.requestType,
    locale: record.locale,
    channel: record.channel,
    mode: record.openedBy.kind === 'agent' ? 'agent' : 'self',
    requester: { id: userKey.slice(userKey.indexOf(':') + 1), name: record.openedBy.name, email: record.openedBy.email },
    customer: record.customer,
    orderNumber: record.orderNumber,
    subscriptionId: record.subscriptionId,
    currentContactEmail: record.currentContactEmail,
    newContactEmail: record.newContactEmail,
    orderLineStatus: record.orderLineStatus,
    canEditInCcw: record.canEditInCcw,
    ponrPassed: record.ponrPassed,
    fixesTried: record.fixesTried,
    attachments: record.attachments,
    trail: record.trail,
  };
}

/**
 * The case-closure flow for the `caseClosed` event (register with the engine's `ProactiveFlows`):
 * its input is the event's data, checked, in the conversation's terms now.
 */
export const caseClosedFlow: ProactiveFlow = {
  flow: CASE_CLOSURE_FLOW_ID,
  input(data, at) {
    const parsed = caseClosedData.safeParse(data);
    if (!parsed.success) return undefined;
    return { flowInput: { ...at, mode: parsed.data.draft.mode ?? at.mode }, ...parsed.data };
  },
};
