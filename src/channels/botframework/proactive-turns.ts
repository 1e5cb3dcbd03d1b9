/**
 * Proactive turns for Bot Framework conversations (Teams, the Emulator) and, through its activity
 * stream, the web chat (src/channels/proactive-turns.ts). In Teams the turn keeps its replies with
 * its commit as pending, held by this process (./delivery.ts): they go out at once through the
 * stored conversation reference as new messages (a reply to nothing), and what the connector does
 * not take, or a crash leaves behind, the reply outbox (./reply-outbox.ts) sends later from any
 * instance. So an event whose turn committed is never lost, and a repeat of it sends nothing twice.
 */
import type { Activity, ConversationReference } from 'botbuilder';
import type { Inbound, Locale, RenderedMessage, TurnOptions, TurnResult } from '../../engine/types';
import type { Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { KeyedMutex } from '../../storage/keyed-mutex';
import type { ChannelProactiveTurns, ProactiveResult } from '../proactive-turns';
import type { BotAdapter } from './adapter';
import type { BotConversationsRepository } from './conversations-repository';
import type { ReplyDelivery } from './delivery';
import { renderForWebChat } from './directline-bridge';
import type { T } from './render';

export interface BotFrameworkProactiveTurnsDeps {
  adapter: BotAdapter;
  /** MicrosoftAppId ('' without one: local, unauthenticated). */
  appId: string;
  engine: { handle(inbound: Inbound, options?: TurnOptions): Promise<TurnResult> };
  references: BotConversationsRepository;
  delivery: ReplyDelivery;
  /** The channel's per-conversation lock: the turn's replies never land inside another turn's. */
  conversations: KeyedMutex;
  /** The turn's messages as the conversation's channel shows them. */
  render: (channelId: string, result: TurnResult) => Partial<Activity>[];
  logger: Logger;
}

export class BotFrameworkProactiveTurns implements ChannelProactiveTurns {
  constructor(private readonly deps: BotFrameworkProactiveTurnsDeps) {}

  async run(conversationKey: string, inbound: Inbound): Promise<ProactiveResult> {
    const { references, conversations } = this.deps;
    const reference = (await references.findReference(conversationKey)) as Partial<ConversationReference> | undefined;
    if (!reference) return 'unreachable';
    return conversations.run(conversationKey, () => this.runLocked(conversationKey, inbound, reference));
  }

  private async runLocked(conversationKey: string, inbound: Inbound, reference: Partial<ConversationReference>): Promise<ProactiveResult> {
    const { adapter, appId, engine, delivery, logger } = this.deps;
    const keep = delivery.keepReplies(true);
    const result = await engine.handle(inbound, keep ? { keepReplies: keep } : {});
    if (result.skipped) return 'unreachable';
    // Handled before: its replies were kept with that turn, and whatever of them is left goes with
    // the reply outbox (or the conversation's next turn).
    if (result.duplicate) return 'sent';
    const replies = this.deps.render(inbound.channel, result);
    const ids = { conversation: reference.conversation?.id, event: inbound.event?.name };
    let kept = 0;
    try {
      await adapter.continueConversationAsync(appId, reference, async (context) => {
        // The continuation's activity id is made up by the SDK: without it the messages are posted
        // to the conversation, not as replies to an activity that never existed.
        context.activity.id = undefined;
        // Never throws for a send: an error here would reach onTurnError and its apology.
        kept = (await delivery.afterTurn(context, conversationKey, result.storedReplies, replies, result.locale)).kept;
      });
    } catch (err) {
      // The continuation itself failed (no token): the kept replies stay pending for the reply outbox.
      logger.warn({ ...ids, err }, 'proactive turn committed, but its replies could not be sent now');
      return result.storedReplies ? 'kept' : 'unreachable';
    }
    logger.info({ ...ids, kept }, 'proactive turn sent');
    return kept > 0 ? 'kept' : 'sent';
  }
}

/** A web chat message as its activity stream keeps it (./directline-bridge.ts renders it the same for replies). */
export function webChatRenderer(translator: Translator): (message: RenderedMessage, locale: Locale) => Record<string, unknown> {
  const ts = new Map<Locale, T>();
  const tFor = (locale: Locale): T => {
    let t = ts.get(locale);
    if (!t) ts.set(locale, (t = (key, params) => translator.t(locale, `botframework:${key}`, params)));
    return t;
  };
  return (message, locale) => ({ ...(renderForWebChat(message, tFor(locale)) as Record<string, unknown>), locale });
}
