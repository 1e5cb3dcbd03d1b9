/**
 * Tells the person their case's external ticket id as soon as the backend returns it, in their
 * conversation and its language, without waiting for their next message (the outbox's
 * `onDelivered` hook). The next turn still shows it too (the intake's final step looks the delivery
 * up), so a conversation no channel can reach proactively loses nothing.
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

export class TicketNotice {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly deps: TicketNoticeDeps) {}

  /** For `CaseOutboxOptions.onDelivered`: starts the notice and returns at once. */
  readonly onDelivered = (record: CaseRecord, externalId: string | undefined): void => {
    if (!externalId) return;
    const job = this.send(record, externalId);
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  };

  /** Sends the notice now; resolves with what the channel did (never rejects). */
  async send(record: CaseRecord, externalId: string): Promise<NotifyResult | 'failed'> {
    const { notifier, store, translator, logger } = this.deps;
    const log = { case: record.reference, conversation: record.conversationKey };
    try {
      // The conversation's language now (the person may have switched since the case was opened).
      const locale = (await store.loadConversation(record.conversationKey))?.locale ?? record.locale;
      const line = translator.t(locale, 'proactive:ticket', { reference: record.reference, externalId });
      const result = await notifier.notify(record.conversationKey, [line], locale);
      logger.info({ ...log, result }, 'ticket id notice');
      return result;
    } catch (err) {
      logger.warn({ ...log, err }, 'ticket id notice could not be sent; the person sees it on their next message');
      return 'failed';
    }
  }

  /** Waits for notices still being sent (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}
