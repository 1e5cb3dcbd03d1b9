/**
 * What goes into a conversation's activity stream: the person's activity, echoed with the id we gave
 * it and its `channelData.clientActivityID` (Web Chat marks it sent only then), then the bot's answers.
 * One conversation's activities are handled one after another, so the echo and its answers keep their
 * order; the engine's own lock serialises turns too.
 */
import type { Logger } from '../../log';
import { KeyedMutex } from '../../storage/keyed-mutex';
import { newId } from './access';
import type { ActivityLog, DirectLineConversation, LoggedActivity } from './activity-log';
import { isCardReplacement, replacedCards } from './cards';
import { botActivity, PAGE_EVENTS, type DirectLineActivity, type DirectLineAttachment, type InboundActivity } from './protocol';
import { isInlineType, type StoredFile } from './uploads';

export const DIRECT_LINE_CHANNEL_ID = 'directline';
export const BOT_ACCOUNT = { id: 'pce-support-bot', name: 'Support bot', role: 'bot' as const };

/**
 * Runs one activity through the bot and resolves with what the bot answered (plain JSON activities).
 * Implemented over botbuilder's CloudAdapter in src/channels/botframework/directline-bridge.ts.
 */
export interface BotBridge {
  process(activity: DirectLineActivity): Promise<unknown[]>;
}

/** An activity's id in its conversation's stream: the conversation and a zero-padded sequence number. */
export function streamActivityId(conversationId: string, seq: number): string {
  return `${conversationId}|${String(seq).padStart(7, '0')}`;
}

/** Who and where of a bot message appended to a conversation's stream (replies and proactive notices). */
export function botActivityEnvelope(conversation: { id: string; userId: string }, seq: number, timestamp: string) {
  return {
    id: streamActivityId(conversation.id, seq),
    timestamp,
    channelId: DIRECT_LINE_CHANNEL_ID,
    conversation: { id: conversation.id },
    from: { ...BOT_ACCOUNT },
    recipient: { id: conversation.userId, role: 'user' as const },
  };
}

export interface ConversationTurnsDeps {
  bridge: BotBridge;
  log: ActivityLog;
  logger: Logger;
  clock: () => Date;
}

export class ConversationTurns {
  private readonly conversations = new KeyedMutex();

  constructor(private readonly deps: ConversationTurnsDeps) {}

  /** The bot greets on conversationUpdate, as it would from Azure's Direct Line. */
  greet(conversation: DirectLineConversation): Promise<void> {
    return this.conversations.run(conversation.id, () =>
      this.runBot(conversation, {
        type: 'conversationUpdate',
        id: `${conversation.id}|greeting`,
        timestamp: this.deps.clock().toISOString(),
        channelId: DIRECT_LINE_CHANNEL_ID,
        conversation: { id: conversation.id },
        from: { id: conversation.userId, role: 'user' },
        recipient: { ...BOT_ACCOUNT },
        locale: conversation.locale,
        membersAdded: [{ id: BOT_ACCOUNT.id, name: BOT_ACCOUNT.name }, { id: conversation.userId }],
      }),
    );
  }

  /**
   * Echoes the person's activity and runs the bot on it, one activity of a conversation at a time.
   * A retried post (same clientActivityID) is answered with the first one's id and not run again.
   * `base` starts the links to `files` (see `attachmentLinkBase`).
   */
  accept(conversation: DirectLineConversation, inbound: InboundActivity, files: StoredFile[], base = ''): Promise<string> {
    // What the bot ignores (typing, events other than the page's, …) is acknowledged but neither kept
    // nor sent to the bot: it would only grow the log.
    if (!botActsOn(inbound)) return Promise.resolve(`${conversation.id}|${inbound.type}-${newId(6)}`);
    return this.conversations.run(conversation.id, async () => {
      const clientActivityId = inbound.channelData?.clientActivityID;
      if (clientActivityId) {
        const seen = await this.deps.log.findByClientActivityId(conversation.id, clientActivityId);
        if (seen) return seen.activity.id;
      }
      const now = this.deps.clock().toISOString();
      const attachments: DirectLineAttachment[] = files.map((f) => ({
        contentType: f.contentType,
        contentUrl: `${base}${f.path}`,
        name: f.name,
        // Web Chat shows the person's own image as a picture only when it has a thumbnail.
        ...(f.contentType.startsWith('image/') && isInlineType(f.contentType) ? { thumbnailUrl: `${base}${f.path}` } : {}),
      }));
      const [echo] = (await this.deps.log.append(conversation.id, 1, (seq) => ({
        type: inbound.type,
        id: streamActivityId(conversation.id, seq),
        timestamp: now,
        channelId: DIRECT_LINE_CHANNEL_ID,
        conversation: { id: conversation.id },
        // The conversation's user, whatever the body claims: a browser cannot speak for someone else.
        from: { id: conversation.userId, name: inbound.from?.name, role: 'user' },
        recipient: { ...BOT_ACCOUNT },
        // What a person typed is shown as they typed it: never as markdown or markup of their choosing.
        ...(inbound.text !== undefined ? { text: inbound.text, textFormat: 'plain' } : {}),
        ...(inbound.locale ? { locale: inbound.locale } : {}),
        ...(inbound.name ? { name: inbound.name } : {}),
        ...(inbound.value !== undefined ? { value: inbound.value } : {}),
        ...(attachments.length ? { attachments } : {}),
        channelData: {
          ...(clientActivityId ? { clientActivityID: clientActivityId } : {}),
          ...(inbound.channelData?.clientTimestamp ? { clientTimestamp: inbound.channelData.clientTimestamp } : {}),
          ...(files.length ? { attachmentSizes: files.map((f) => f.size) } : {}),
        },
      }))) as [LoggedActivity];
      await this.runBot(conversation, echo.activity);
      return echo.activity.id;
    });
  }

  /** Runs the bot and appends its answers; a failing bot is logged, the person's activity stays accepted. */
  private async runBot(conversation: DirectLineConversation, activity: DirectLineActivity): Promise<void> {
    const { log, logger } = this.deps;
    let replies: unknown[];
    try {
      replies = await this.deps.bridge.process(activity);
    } catch (err) {
      logger.error({ err, conversation: conversation.id, activity: activity.id }, 'web chat turn failed');
      return;
    }
    const valid = replies.flatMap((r) => {
      const parsed = botActivity.safeParse(r);
      if (!parsed.success) logger.warn({ conversation: conversation.id }, 'bot answered with an invalid activity; dropped');
      return parsed.success ? [parsed.data] : [];
    });
    const updates = await replacedCards(log, conversation.id, valid.filter(isCardReplacement));
    const fresh = valid.filter((r) => !isCardReplacement(r));
    if (updates.length) await log.append(conversation.id, updates.length, (_seq, i) => updates[i]!);
    if (!fresh.length) return;
    const now = this.deps.clock().toISOString();
    await log.append(conversation.id, fresh.length, (seq, i) => {
      const reply = fresh[i]!;
      return {
        ...pick(reply, REPLY_FIELDS),
        type: reply.type,
        ...botActivityEnvelope(conversation, seq, now),
        replyToId: activity.id,
      };
    });
  }
}

/**
 * Does the bot act on this activity? Messages, and the page's own events (the language switch with a
 * language); the bridge drops anything else, so keeping it would only let a browser fill the log.
 */
function botActsOn(inbound: InboundActivity): boolean {
  if (inbound.type === 'message') return true;
  return inbound.type === 'event' && inbound.name === PAGE_EVENTS.setLanguage && typeof inbound.value === 'string' && inbound.value.length <= 20;
}

/** What the browser gets from a bot reply; routing fields (serviceUrl, recipient, …) are ours to set. */
const REPLY_FIELDS = [
  'text',
  'textFormat',
  'locale',
  'name',
  'value',
  'attachments',
  'attachmentLayout',
  'suggestedActions',
  'inputHint',
  'speak',
  'summary',
  'entities',
  'channelData',
] as const;

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined && source[k] !== null).map((k) => [k, source[k]]));
}
