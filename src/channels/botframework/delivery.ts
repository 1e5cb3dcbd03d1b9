/**
 * Sending a turn's replies so that none is lost (issue 15). The turn's commit keeps its replies
 * (./replies-repository.ts), held by this process, and they go out right after it:
 * each message is recorded as taken once the connector answered 2xx, so a message the connector took
 * is never posted again. What cannot go now stays pending with a retry time, for the conversation's
 * next turn (where kept replies go first, after a short note), a re-delivery of the activity, or the
 * polling worker (./reply-outbox.ts), which also takes over replies of a process that died between
 * the commit and the send, on any instance once their claim has expired.
 *
 * The connector client retries on its own (botframework-connector's pipeline from
 * @azure/core-rest-pipeline: 3 retries with exponential backoff and jitter, about 0.5-1 s, 1-2 s,
 * 2-4 s, on 408, 5xx and network errors, and 429/503 after Retry-After); a second retry loop over it
 * would multiply attempts and outlast Teams' 15 s. A rejection (other 4xx: the activity itself is
 * refused) is not retried: it would fail again.
 *
 * Exactly once as far as the channel allows: a message is posted again only when its 2xx was not
 * recorded, i.e. when the process died (or lost the database) between the connector's answer and the
 * record, or when a send hung for longer than the claim's lease and another instance took over.
 */
import { randomUUID } from 'node:crypto';
import { ActivityTypes, type Activity, type TurnContext } from 'botbuilder';
import { z } from 'zod';
import type { Locale, RenderedMessage, TurnOptions, TurnResult } from '../../engine/types';
import { isEventActivityId } from '../../engine/proactive';
import type { Logger } from '../../log';
import type { BotConversationsRepository, UndeliveredReply } from './conversations-repository';
import type { BotRepliesRepository, KeptReplies } from './replies-repository';

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
  /** Conversation references and proactive notices the connector did not take (undelivered_replies). */
  repository?: BotConversationsRepository;
  /** The turns' kept replies; without it (an in-memory store) replies are sent once and nothing is kept. */
  replies?: BotRepliesRepository;
  /** One channel-neutral message as the conversation's channel shows it, in `locale`. */
  render: (channelId: string, message: RenderedMessage, locale: Locale) => Partial<Activity>;
  /** The note that introduces replies of earlier messages. */
  note: (locale: Locale) => Partial<Activity>;
  /** Identifies this process's claims; random by default. */
  workerId?: string;
  /** How long a claim holds (REPLY_DELIVERY_LEASE_SECONDS). */
  leaseMs?: number;
  /** First retry delay, doubling per attempt up to `retryMaxMs` (with jitter). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  random?: () => number;
  clock?: () => Date;
}

export interface DeliveryReport {
  sent: number;
  /** Replies left pending (or, without kept replies, kept for the next turn). */
  kept: number;
  /** Replies of earlier turns (or kept notices) that went out now. */
  resent: number;
}

interface Outgoing {
  activity: Partial<Activity>;
  /** Row id of a reply kept by an earlier turn. */
  keptId?: string;
  /** The note that introduces kept replies: never kept itself. */
  note?: boolean;
}

/** A stored message is read back as the engine rendered it; anything else is not shown. */
const renderedMessage = z.object({
  paragraphs: z.array(z.string()),
  choices: z.array(z.object({ id: z.string(), label: z.string() })),
  links: z.array(z.object({ label: z.string(), url: z.string() })),
  facts: z.array(z.object({ label: z.string(), value: z.string() })),
  step: z.string().optional(),
  expects: z.enum(['choice', 'text', 'attachment']).optional(),
});

/** What goes out, in order: the note, messages of kept rows (with their position), kept notices. */
type Item =
  | { kind: 'note'; activity: Partial<Activity> }
  | { kind: 'row'; row: KeptReplies; index: number }
  | { kind: 'notice'; reply: UndeliveredReply };

/** `${channel}:${activityId}` → the activity id. */
function activityIdOf(activityKey: string | undefined): string | undefined {
  if (!activityKey) return undefined;
  const at = activityKey.indexOf(':');
  const id = at < 0 ? activityKey : activityKey.slice(at + 1);
  // An event's turn (src/engine/proactive.ts) answers no activity: its replies are new messages.
  return isEventActivityId(id) ? undefined : id;
}

/** Delay before retry `attempt` (1-based): base·2^(attempt-1) capped at max, at least half of it (equal jitter). */
function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class ReplyDelivery {
  readonly workerId: string;
  readonly leaseMs: number;
  private readonly clock: () => Date;

  constructor(private readonly deps: ReplyDeliveryDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.workerId = deps.workerId ?? `replies-${randomUUID()}`;
    this.leaseMs = deps.leaseMs ?? 60_000;
  }

  /** Whether turns keep their replies (a SQL store). */
  get keeps(): boolean {
    return this.deps.replies !== undefined;
  }

  /**
   * What a turn asks the engine for: replies kept with the commit, held by this process (`live`) or
   * answered in the response (kept only for a re-delivery, so not without an activity id).
   */
  keepReplies(live: boolean, hasActivityId = true): TurnOptions['keepReplies'] {
    if (!this.deps.replies || (!live && !hasActivityId)) return undefined;
    return live ? { state: 'pending', claim: { by: this.workerId, leaseMs: this.leaseMs } } : { state: 'answered' };
  }

  /**
   * After a live turn committed its replies (`stored.turn`; `stored.owed`, what else the conversation
   * owes, as its commit read it): replies of earlier turns still pending and kept notices go first,
   * after the note, then the turn's own, in order. Never throws for a send.
   * `rendered` (the turn's replies as rendered) goes out directly only when the kept ones cannot be
   * read; without kept replies (no `turn`), see `sendUnkept`.
   */
  async afterTurn(context: TurnContext, conversationKey: string, stored: TurnResult['storedReplies'], rendered: Partial<Activity>[], locale: Locale): Promise<DeliveryReport> {
    const turn = stored?.turn;
    const { replies, logger } = this.deps;
    if (!replies || turn === undefined) return this.sendUnkept(context, conversationKey, rendered, () => this.deps.note(locale));
    const ids = this.ids(context);
    // The commit left this turn's row claimed by us: unless the conversation owes more (nearly
    // never), it goes out as rendered, with no claim and no read of notices (issue 19).
    const current: KeptReplies = { conversationKey, turn, ...(context.activity.id ? { activityKey: `${context.activity.channelId}:${context.activity.id}` } : {}), locale, messages: rendered, state: 'pending', done: 0, attempts: 0 };
    // Read by the commit itself, usually; otherwise asked now. Unknown: the full path below finds out, or sends as rendered.
    const owed = stored?.owed ?? (await replies.owed(conversationKey, turn).catch(() => ({ replies: true, notices: true })));
    if (!owed.replies && !owed.notices) return this.sendKept(context, conversationKey, [current], { isCurrent: () => true, notices: [], rendered });
    const notices = owed.notices ? await this.keptNotices(context, conversationKey) : [];
    let rows: KeptReplies[];
    try {
      rows = owed.replies ? await replies.claimConversation(conversationKey, { workerId: this.workerId, now: this.clock(), leaseMs: this.leaseMs }) : [current];
    } catch (err) {
      // The turn's row is ours from the commit: send it as rendered, and record it if the store lets us.
      logger.warn({ ...ids, err }, 'kept replies could not be claimed; sending this turn\'s replies as they are');
      const report = await this.sendUnkept(context, conversationKey, rendered, () => this.deps.note(locale), false);
      if (report.kept === 0) {
        await replies.markDone(conversationKey, turn, this.workerId, rendered.length, true).catch((markErr: unknown) =>
          logger.warn({ ...ids, err: markErr }, 'sent replies could not be recorded; they may be sent again after the lease'),
        );
      }
      return report;
    }
    if (!rows.some((r) => r.turn === turn)) {
      // Another instance holds earlier replies of this conversation and is sending them: ours must
      // follow them, so they are left to whoever sends the conversation's replies next.
      logger.info({ ...ids, turn }, 'earlier replies of this conversation are being sent elsewhere; this turn\'s follow them');
      await replies.release(conversationKey, [turn], this.workerId, this.clock()).catch((err: unknown) => logger.warn({ ...ids, err }, 'claim could not be released'));
      return { sent: 0, kept: rendered.length, resent: 0 };
    }
    return this.sendKept(context, conversationKey, rows, { isCurrent: (r) => r.turn === turn, notices, rendered });
  }

  /**
   * The activity was handled before (a re-delivery). `expectReplies`: the response gets the same
   * replies as the first time, while they are kept. Otherwise whatever of the conversation is still
   * pending goes now (none of it was taken by the connector), the activity's own replies last.
   */
  async redelivered(context: TurnContext, conversationKey: string, activityKey: string | undefined, live: boolean): Promise<DeliveryReport> {
    const { replies, logger } = this.deps;
    const report: DeliveryReport = { sent: 0, kept: 0, resent: 0 };
    if (!replies) return report;
    const ids = this.ids(context);
    try {
      if (!live) {
        if (!activityKey) return report;
        const rows = await replies.forActivity(conversationKey, activityKey);
        const activities = rows.flatMap((row) => row.messages.flatMap((m) => this.renderStored(context, row, m) ?? []));
        if (activities.length) await context.sendActivities(activities);
        report.sent = activities.length;
        return report;
      }
      const rows = await replies.claimConversation(conversationKey, { workerId: this.workerId, now: this.clock(), leaseMs: this.leaseMs });
      if (!rows.length) return report; // all taken, or being sent by another instance right now
      logger.info({ ...ids, turns: rows.map((r) => r.turn) }, 're-delivered activity: sending its conversation\'s pending replies');
      return await this.sendKept(context, conversationKey, rows, { isCurrent: (r) => r.activityKey === activityKey, notices: [] });
    } catch (err) {
      logger.warn({ ...ids, err }, 'kept replies of a re-delivered activity could not be read');
      return report;
    }
  }

  /**
   * Sends claimed rows (oldest turn first) and kept notices: the note (unless `worker`) when any row
   * is not `isCurrent` or a notice goes too, then rows of earlier messages, the notices, and the
   * current rows. Each message taken is recorded while the claim holds; the first transient failure
   * ends the pass and what is left gets a retry time. Never throws.
   */
  async sendKept(
    context: TurnContext,
    conversationKey: string,
    rows: KeptReplies[],
    opts: {
      isCurrent: (row: KeptReplies) => boolean;
      notices: UndeliveredReply[];
      worker?: boolean;
      /** The current turn's replies as the route rendered them: sent as they are, not rendered again from the row. */
      rendered?: Partial<Activity>[];
    },
  ): Promise<DeliveryReport> {
    const { replies, repository, logger } = this.deps;
    const ids = this.ids(context);
    const report: DeliveryReport = { sent: 0, kept: 0, resent: 0 };
    const current = rows.filter(opts.isCurrent);
    const earlier = rows.filter((r) => !opts.isCurrent(r));
    const messagesOf = (row: KeptReplies): Item[] => row.messages.slice(row.done).map((_, i) => ({ kind: 'row', row, index: row.done + i }));
    const locale = asLocale((current.at(-1) ?? rows.at(-1))?.locale);
    const items: Item[] = [
      ...(!opts.worker && (earlier.length || opts.notices.length) ? [{ kind: 'note' as const, activity: this.deps.note(locale) }] : []),
      ...earlier.flatMap(messagesOf),
      ...opts.notices.map((reply) => ({ kind: 'notice' as const, reply })),
      ...current.flatMap(messagesOf),
    ];
    const unfinished = new Set(rows.map((r) => r.turn));
    const sentNotices: string[] = [];
    const record = async (row: KeptReplies, done: number): Promise<boolean> => {
      const finished = done >= row.messages.length;
      try {
        const held = await replies!.markDone(conversationKey, row.turn, this.workerId, done, finished);
        if (finished) unfinished.delete(row.turn);
        if (!held) logger.warn({ ...ids, turn: row.turn }, 'the claim on these replies expired and was taken over; leaving them to the new claimant');
        return held;
      } catch (err) {
        logger.warn({ ...ids, err, turn: row.turn }, 'a sent reply could not be recorded; it may be sent again after the lease');
        return true;
      }
    };
    // A row with nothing left to send (unreadable) is done as it is.
    for (const row of rows) if (row.done >= row.messages.length) await record(row, row.messages.length);
    for (let i = 0; i < items.length; i += 1) {
      const item = items[i]!;
      let activity: Partial<Activity> | undefined;
      if (item.kind === 'row') {
        if (opts.worker) context.activity.id = activityIdOf(item.row.activityKey) as string;
        const ready = opts.rendered && opts.isCurrent(item.row) && opts.rendered.length === item.row.messages.length ? opts.rendered[item.index] : undefined;
        activity = ready ?? this.renderStored(context, item.row, item.row.messages[item.index]);
        if (!activity) {
          if (!(await record(item.row, item.index + 1))) break;
          continue;
        }
      } else activity = item.kind === 'note' ? item.activity : (item.reply.activity as Partial<Activity>);
      try {
        await context.sendActivity(activity);
      } catch (err) {
        if (!isTransientSendError(err)) {
          // Refused as it is: sending it again would be refused again.
          logger.error({ ...ids, ...failureOf(err), kind: activity.type }, 'reply refused by the connector; dropped');
          if (item.kind === 'row' && !(await record(item.row, item.index + 1))) break;
          if (item.kind === 'notice') sentNotices.push(item.reply.id);
          continue;
        }
        report.kept = items.slice(i).filter((x) => x.kind === 'row').length;
        const left = rows.filter((r) => unfinished.has(r.turn));
        const attempt = Math.max(0, ...left.map((r) => r.attempts)) + 1;
        const delay = retryDelayMs(attempt, this.deps.retryBaseMs ?? 10_000, this.deps.retryMaxMs ?? 600_000, this.deps.random ?? Math.random);
        await replies!
          .retryLater(conversationKey, left.map((r) => r.turn), this.workerId, { error: describe(err), nextAttemptAt: new Date(this.clock().getTime() + delay) })
          .catch((keepErr: unknown) => logger.warn({ ...ids, err: keepErr }, 'retry time of pending replies could not be recorded; they are retried after the lease'));
        logger.warn({ ...ids, ...failureOf(err), pending: report.kept, retryInMs: delay }, 'replies could not be sent after retries; kept pending');
        break;
      }
      report.sent += 1;
      if (item.kind === 'notice') {
        sentNotices.push(item.reply.id);
        report.resent += 1;
      } else if (item.kind === 'row') {
        if (!opts.isCurrent(item.row)) report.resent += 1;
        if (!(await record(item.row, item.index + 1))) break;
      }
    }
    if (repository && sentNotices.length) {
      await repository.removeUndelivered(sentNotices).catch((err: unknown) => logger.warn({ ...ids, err }, 'sent notices could not be marked sent'));
    }
    return report;
  }

  /**
   * Without kept replies: sends the notices kept for this conversation (after `note`), then
   * `replies`, in order. Stops at the first transient failure and keeps what is left of `replies` as
   * notices for the next turn (unless `keep` is false); never throws for a send.
   */
  async sendUnkept(context: TurnContext, conversationKey: string, replies: Partial<Activity>[], note: () => Partial<Activity>, keep = true): Promise<DeliveryReport> {
    const { repository, logger } = this.deps;
    const ids = this.ids(context);
    // The turn is committed: a store that cannot be read now must not cost its replies.
    const kept = keep ? await this.keptNotices(context, conversationKey) : [];
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
        report.kept = rest.length;
        if (repository && rest.length && keep) {
          try {
            await repository.keepUndelivered(conversationKey, rest, this.clock());
          } catch (keepErr) {
            logger.error({ ...ids, err: keepErr, lost: rest.length }, 'undelivered replies could not be kept');
          }
        }
        logger.warn(
          { ...ids, ...failureOf(err), kept: report.kept, dropped: repository && keep ? 0 : rest.length },
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

  /** Proactive notices the connector did not take, kept for the conversation's next turn. */
  private async keptNotices(context: TurnContext, conversationKey: string): Promise<UndeliveredReply[]> {
    const { repository, logger } = this.deps;
    if (!repository) return [];
    return repository.undelivered(conversationKey).catch((err: unknown) => {
      logger.warn({ ...this.ids(context), err }, 'undelivered replies could not be read; sent with the next turn');
      return [];
    });
  }

  /** A stored message as this conversation's channel shows it; undefined (logged) when it is not one. */
  private renderStored(context: TurnContext, row: KeptReplies, message: unknown): Partial<Activity> | undefined {
    const parsed = renderedMessage.safeParse(message);
    if (!parsed.success) {
      this.deps.logger.error({ ...this.ids(context), turn: row.turn }, 'a kept reply is not a message; skipped');
      return undefined;
    }
    return this.deps.render(String(context.activity.channelId), parsed.data, asLocale(row.locale));
  }

  private ids(context: TurnContext): { conversation?: string; activity?: string } {
    return { conversation: context.activity.conversation?.id, activity: context.activity.id };
  }
}

function asLocale(locale: string | undefined): Locale {
  return locale === 'uk' ? 'uk' : 'en';
}

function describe(err: unknown): string {
  const { status, code } = failureOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return [status, code, message].filter((x) => x !== undefined).join(' ');
}

/** The activity a note is sent as. */
export function noteActivity(text: string, locale: string): Partial<Activity> {
  return { type: ActivityTypes.Message, text, textFormat: 'plain', locale };
}
