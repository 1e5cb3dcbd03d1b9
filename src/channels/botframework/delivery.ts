/**
 * Sending a turn's replies so that none is lost. The turn is already committed when its replies go
 * out, so a reply the connector does not take would be gone. The connector client retries on its own
 * (botframework-connector's pipeline from @azure/core-rest-pipeline: 3 retries with exponential
 * backoff and jitter, about 0.5-1 s, 1-2 s, 2-4 s, on 408, 5xx and network errors, and 429/503 after
 * Retry-After); a second retry loop over it would multiply attempts and outlast Teams' 15 s. What
 * still fails after those retries is kept in the store and sent first on the conversation's next
 * turn, after a short note. A rejection (other 4xx: the activity itself is refused) is not kept: it
 * would fail again.
 */
import { ActivityTypes, type Activity, type TurnContext } from 'botbuilder';
import type { Logger } from '../../log';
import type { BotConversationsRepository } from '../../storage/bot-conversations-repository';

const SYSTEM_ERRORS = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** Worth keeping for later: the connector was unavailable, not refusing this activity. */
export function isTransientSendError(err: unknown): boolean {
  const e = err as { statusCode?: unknown; code?: unknown } | null;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined) return status === 408 || status === 429 || status >= 500;
  return typeof e?.code === 'string' ? SYSTEM_ERRORS.has(e.code) || e.code === 'REQUEST_SEND_ERROR' : true;
}

function failureOf(err: unknown): { status?: unknown; code?: unknown } {
  const e = err as { statusCode?: unknown; code?: unknown } | null;
  return { status: e?.statusCode, code: e?.code };
}

export interface ReplyDeliveryDeps {
  logger: Logger;
  /** Where undelivered replies are kept; without one (an in-memory store) they are logged and dropped. */
  repository?: BotConversationsRepository;
  clock?: () => Date;
}

export interface DeliveryReport {
  sent: number;
  /** New replies kept for the next turn. */
  kept: number;
  /** Replies kept by earlier turns that went out now. */
  resent: number;
}

interface Outgoing {
  activity: Partial<Activity>;
  /** Row id of a reply kept by an earlier turn. */
  keptId?: string;
  /** The note that introduces kept replies: never kept itself. */
  note?: boolean;
}

export class ReplyDelivery {
  private readonly clock: () => Date;

  constructor(private readonly deps: ReplyDeliveryDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /**
   * Sends the replies kept for this conversation (after `note`), then `replies`, in order. Stops at
   * the first transient failure and keeps what is left of `replies`; never throws for a send.
   */
  async send(context: TurnContext, conversationKey: string, replies: Partial<Activity>[], note: () => Partial<Activity>): Promise<DeliveryReport> {
    const { repository, logger } = this.deps;
    const ids = { conversation: context.activity.conversation?.id, activity: context.activity.id };
    // The turn is committed: a store that cannot be read now must not cost its replies.
    const kept = repository
      ? await repository.undelivered(conversationKey).catch((err: unknown) => {
          logger.warn({ ...ids, err }, 'undelivered replies could not be read; sent with the next turn');
          return [];
        })
      : [];
    const queue: Outgoing[] = [
      ...(kept.length ? [{ activity: note(), note: true }] : []),
      ...kept.map((k) => ({ activity: k.activity as Partial<Activity>, keptId: k.id })),
      ...replies.map((activity) => ({ activity })),
    ];
    const done: string[] = [];
    const report: DeliveryReport = { sent: 0, kept: 0, resent: 0 };
    for (let i = 0; i < queue.length; i += 1) {
      const item = queue[i]!;
      try {
        await context.sendActivity(item.activity);
        report.sent += 1;
        if (item.keptId) {
          done.push(item.keptId);
          report.resent += 1;
        }
      } catch (err) {
        if (!isTransientSendError(err)) {
          // Refused as it is: sending it again would be refused again.
          logger.error({ ...ids, ...failureOf(err), kind: item.activity.type }, 'reply refused by the connector; dropped');
          if (item.keptId) done.push(item.keptId);
          continue;
        }
        const rest = queue.slice(i).filter((q) => !q.keptId && !q.note).map((q) => q.activity as Record<string, unknown>);
        if (repository && rest.length) {
          try {
            await repository.keepUndelivered(conversationKey, rest, this.clock());
            report.kept = rest.length;
          } catch (keepErr) {
            logger.error({ ...ids, err: keepErr, lost: rest.length }, 'undelivered replies could not be kept');
          }
        }
        logger.warn(
          { ...ids, ...failureOf(err), kept: report.kept, dropped: repository ? 0 : rest.length },
          'replies could not be sent after retries; kept for the next turn',
        );
        break;
      }
    }
    if (repository && done.length) {
      // Not forgotten: sent again (a duplicate) with the next turn rather than lost.
      await repository.removeUndelivered(done).catch((err: unknown) => logger.warn({ ...ids, err }, 'sent replies could not be marked sent'));
    }
    return report;
  }
}

/** The activity a note is sent as. */
export function noteActivity(text: string, locale: string): Partial<Activity> {
  return { type: ActivityTypes.Message, text, textFormat: 'plain', locale };
}
