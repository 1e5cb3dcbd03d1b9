/**
 * The worker over kept replies (issue 15): what a turn could not send right after its commit, and
 * what a process that died between the commit and the send left behind. Every pass it asks for
 * conversations with due pending replies, claims each conversation's rows (PostgreSQL: not while
 * another instance holds them; a claim of a dead instance expires after the lease) and sends them in
 * order through the stored conversation reference (`continueConversationAsync`), as replies to the
 * activities they answered. Sending is ./delivery.ts's, so a message the connector took is recorded
 * at once and never posted again. Started by the app with the cases outbox; the first pass runs at
 * start, so a restart resumes at once.
 */
import type { ConversationReference } from 'botbuilder';
import type { Logger } from '../../log';
import type { BotConversationsRepository } from './conversations-repository';
import type { BotRepliesRepository } from './replies-repository';
import type { KeyedMutex } from '../../storage/keyed-mutex';
import type { ReplyDelivery } from './delivery';
import type { BotAdapter } from './adapter';
import { PollLoop } from '../../workers/poll-loop';

export interface ReplyOutboxOptions {
  delivery: ReplyDelivery;
  replies: BotRepliesRepository;
  references: BotConversationsRepository;
  adapter: BotAdapter;
  /** MicrosoftAppId ('' without one: local, unauthenticated). */
  appId: string;
  /** The channel's per-conversation lock: never inside a turn's own sending. */
  conversations: KeyedMutex;
  logger: Logger;
  clock?: () => Date;
  /** Pause between passes when there was nothing more to do (REPLY_DELIVERY_POLL_SECONDS). */
  pollMs?: number;
  /** Conversations per pass. */
  batchSize?: number;
  /** A conversation without a stored reference is looked at again after this long. */
  unreachableRetryMs?: number;
}

export class ReplyOutbox {
  private readonly clock: () => Date;
  private readonly loop: PollLoop<number>;

  constructor(private readonly opts: ReplyOutboxOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.loop = new PollLoop({
      name: 'reply outbox',
      pass: () => this.runOnce(),
      more: (n) => n >= (opts.batchSize ?? 20),
      failed: 0,
      pollMs: opts.pollMs ?? 5_000,
      logger: opts.logger,
    });
  }

  /** Starts polling; the first pass runs at once. */
  start(): void {
    this.loop.start();
  }

  /** Stops polling and waits for the pass in progress; claims of unsent replies expire on their own. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass: returns how many conversations had replies claimed. */
  async runOnce(): Promise<number> {
    const { replies, delivery, conversations } = this.opts;
    const keys = await replies.dueConversations({ workerId: delivery.workerId, now: this.clock(), limit: this.opts.batchSize ?? 20 });
    let handled = 0;
    for (const key of keys) {
      if (await conversations.run(key, () => this.deliver(key))) handled += 1;
    }
    return handled;
  }

  private async deliver(conversationKey: string): Promise<boolean> {
    const { replies, references, delivery, adapter, appId, logger } = this.opts;
    const rows = await replies.claimConversation(conversationKey, { workerId: delivery.workerId, now: this.clock(), leaseMs: delivery.leaseMs });
    if (!rows.length) return false;
    const turns = rows.map((r) => r.turn);
    const reference = await references.findReference(conversationKey).catch(() => undefined);
    if (!reference) {
      // Written before the turn ran, so only a failed write leaves none: the conversation's next turn sends them.
      const nextAttemptAt = new Date(this.clock().getTime() + (this.opts.unreachableRetryMs ?? 600_000));
      await replies.retryLater(conversationKey, turns, delivery.workerId, { error: 'no conversation reference stored', nextAttemptAt });
      logger.warn({ conversation: conversationKey, turns }, 'pending replies have no conversation reference; they go with the next turn');
      return true;
    }
    try {
      await adapter.continueConversationAsync(appId, reference as Partial<ConversationReference>, async (context) => {
        // `sendKept` never throws: an error here would reach onTurnError and its apology.
        const report = await delivery.sendKept(context, conversationKey, rows, { isCurrent: () => true, notices: [], worker: true });
        logger.info({ conversation: (reference as Partial<ConversationReference>).conversation?.id, turns, ...report }, 'pending replies sent by the worker');
      });
    } catch (err) {
      // The continuation itself failed (e.g. no token): what is still ours gets a retry time.
      logger.warn({ conversation: conversationKey, err }, 'pending replies could not be sent');
      const nextAttemptAt = new Date(this.clock().getTime() + (this.opts.unreachableRetryMs ?? 600_000) / 10);
      await replies.retryLater(conversationKey, turns, delivery.workerId, { error: String(err), nextAttemptAt }).catch(() => undefined);
    }
    return true;
  }
}
