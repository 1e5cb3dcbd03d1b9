/**
 * Proactive messages for Bot Framework conversations (Teams, the Emulator): the conversation
 * reference of the latest turn is stored per conversation, and a message goes out through
 * `adapter.continueConversationAsync` with it, from any instance. A message the connector does not
 * take (after its own retries) is kept and shown first on the conversation's next turn.
 */
import { ActivityTypes, TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import type { Locale, TurnOptions } from '../../engine/types';
import type { Logger } from '../../log';
import type { BotConversationsRepository } from './conversations-repository';
import type { KeyedMutex } from '../../storage/keyed-mutex';
import type { ChannelNotifier, NotifyResult } from '../notify';
import { isTransientSendError } from './delivery';
import type { BotAdapter } from './adapter';
import { escapeMarkdown } from './render';

/** The reference to keep: without the activity id, so a proactive message is a new message, not a reply. */
export function referenceOf(activity: Partial<Activity>): Record<string, unknown> {
  const { activityId: _activityId, ...reference } = TurnContext.getConversationReference(activity);
  return reference as Record<string, unknown>;
}

/**
 * What makes a stored reference stale: the route to the conversation, not the message it came with.
 * Read off the activity as `TurnContext.getConversationReference` maps it (bot = recipient, user =
 * from), so a turn whose reference is stored already builds none (issue 19).
 */
function routeOf(activity: Partial<Activity>): string {
  return JSON.stringify([activity.serviceUrl, activity.channelId, activity.conversation?.id, activity.recipient?.id, activity.from?.id, activity.locale]);
}

/**
 * The conversation's reference, stored with the turn that brought it when its route is new to the
 * conversation (`TurnOptions.marked`: the route is the mark kept in the conversation row, so a turn
 * whose reference is stored already costs no statement, on any instance; a turn that fails stores
 * neither, and the next one tries again). Retention deletes the two together.
 */
export function referenceWithTurn(activity: Partial<Activity>): NonNullable<TurnOptions['marked']> {
  return { mark: routeOf(activity), rows: () => ({ botReference: { channel: String(activity.channelId), reference: referenceOf(activity) } }) };
}

export interface BotFrameworkNotifierDeps {
  adapter: BotAdapter;
  /** MicrosoftAppId ('' without one: local, unauthenticated). */
  appId: string;
  repository: BotConversationsRepository;
  /** The channel's per-conversation lock, so a proactive message never lands inside a turn's replies. */
  conversations: KeyedMutex;
  logger: Logger;
  clock?: () => Date;
}

export class BotFrameworkNotifier implements ChannelNotifier {
  constructor(private readonly deps: BotFrameworkNotifierDeps) {}

  async notify(conversationKey: string, lines: string[], locale: Locale): Promise<NotifyResult> {
    const { adapter, appId, repository, conversations, logger } = this.deps;
    const reference = await repository.findReference(conversationKey);
    if (!reference) return 'unreachable';
    const activity: Partial<Activity> = {
      type: ActivityTypes.Message,
      text: lines.map(escapeMarkdown).join('\n\n'),
      textFormat: 'markdown',
      locale,
    };
    return conversations.run(conversationKey, async () => {
      let failure: unknown;
      await adapter.continueConversationAsync(appId, reference as Partial<ConversationReference>, async (context) => {
        // The continuation activity's id is made up by the SDK: without it the message is posted to the
        // conversation (POST …/activities), not as a reply to an activity that never existed.
        context.activity.id = undefined;
        // Caught here: an error thrown from the logic would reach onTurnError and its apology.
        try {
          await context.sendActivity(activity);
        } catch (err) {
          failure = err;
        }
      });
      if (failure === undefined) return 'sent';
      const e = failure as { statusCode?: unknown; code?: unknown };
      const ids = { conversation: (reference as Partial<ConversationReference>).conversation?.id, status: e.statusCode, code: e.code };
      if (!isTransientSendError(failure)) {
        logger.error(ids, 'proactive message refused by the connector');
        throw failure;
      }
      await repository.keepUndelivered(conversationKey, [activity as Record<string, unknown>], (this.deps.clock ?? (() => new Date()))());
      logger.warn(ids, 'proactive message could not be sent after retries; kept for the next turn');
      return 'kept';
    });
  }
}
