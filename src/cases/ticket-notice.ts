/**
 * Tells the person what became of their case as soon as the outbox knows, in their conversation and
 * its language, without waiting for their next message: it reached support (with the external ticket
 * id when the backend returns one; the outbox's `onDelivered` hook), or the support system rejected
 * it (`onRejected`). While a backend is unreachable nothing is sent: the case stays pending and the
 * person hears when it arrives, however long that takes. The next turn still shows the status too
 * (the intake's final step looks the delivery up), so a conversation no channel can reach
 * proactively loses nothing.
 */
import type { ChannelNotifier, NotifyResult } from '../channels/notify';
import type { Translator } from '../i18n';
import type { Logger } from '../log';
import type { Store } from '../storage/store';
import type { CaseRecord } from './schema';

export interface TicketNoticeDeps {
  notifier: ChannelNotifier;
  store: Pick<Store, 'loadConversation'>;
  translator: Translator;
  logger: Logger;
}

/** What the person is told: the ticket id, that the case arrived (no id given), or that it was rejected. */
export type CaseNotice = { kind: 'ticket'; externalId: string } | { kind: 'delivered' } | { kind: 'rejected' };

export class TicketNotice {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly deps: TicketNoticeDeps) {}

  /** For `CaseOutboxOptions.onDelivered`: starts the notice and returns at once. */
  readonly onDelivered = (record: CaseRecord, externalId: string | undefined): void => {
    this.start(record, externalId ? { kind: 'ticket', externalId } : { kind: 'delivered' });
  };

  /** For `CaseOutboxOptions.onRejected`: starts the notice and returns at once. */
  readonly onRejected = (record: CaseRecord): void => {
    this.start(record, { kind: 'rejected' });
  };

  private start(record: CaseRecord, notice: CaseNotice): void {
    const job = this.send(record, notice);
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  /** Sends the notice now; resolves with what the channel did (never rejects). */
  async send(record: CaseRecord, notice: CaseNotice): Promise<NotifyResult | 'failed'> {
    const { notifier, store, translator, logger } = this.deps;
    const log = { case: record.reference, conversation: record.conversationKey, notice: notice.kind };
    try {
      // The conversation's language now (the person may have switched since the case was opened).
      const locale = (await store.loadConversation(record.conversationKey))?.locale ?? record.locale;
      const line =
        notice.kind === 'ticket'
          ? translator.t(locale, 'proactive:ticket', { reference: record.reference, externalId: notice.externalId })
          : translator.t(locale, notice.kind === 'delivered' ? 'proactive:caseDelivered' : 'proactive:caseRejected', { reference: record.reference });
      const result = await notifier.notify(record.conversationKey, [line], locale);
      logger.info({ ...log, result }, 'case notice');
      return result;
    } catch (err) {
      logger.warn({ ...log, err }, 'case notice could not be sent; the person sees the status on their next message');
      return 'failed';
    }
  }

  /** Waits for notices still being sent (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}
