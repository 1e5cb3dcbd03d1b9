/**
 * Proactive messages for Bot Framework conversations (Teams, the Emulator): the conversation
 * reference of the latest turn is stored per conversation, and a message goes out through
 * `adapter.continueConversationAsync` with it, from any instance. A message the connector does not
 * take (after its own retries) is kept and shown first on the conversation's next turn.
 */
import { ActivityTypes, TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import { LRUCache } from 'lru-cache';
import type { Locale } from '../../engine/types';
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

export interface ConversationReferencesDeps {
  clock?: () => Date;
  /** Conversations whose reference this process knows is stored (bounded). Default 10000. */
  maxRemembered?: number;
  /** Written again after this long even if unchanged (retention may have deleted it meanwhile). Default 24 h. */
  rewriteAfterMs?: number;
}

/** A reference to store with the turn that brought it, and its route (what `committed` is told afterwards). */
export interface DueReference {
  kept: { channel: string; reference: Record<string, unknown> };
  route: string;
}

/**
 * Which conversations' references need storing: one new to this process, whose route changed, or not
 * written for a day (retention may have deleted it). The reference goes with the turn's commit
 * (./reference-writer.ts), so a turn that fails stores none and the next one tries again.
 */
export class ConversationReferences {
  /** Conversation key → the route stored for it, until it is due to be written again. */
  private readonly stored: LRUCache<string, string>;

  constructor(deps: ConversationReferencesDeps) {
    const { clock } = deps;
    this.stored = new LRUCache<string, string>({
      max: deps.maxRemembered ?? 10_000,
      ttl: deps.rewriteAfterMs ?? 24 * 3_600_000,
      // The clock is read at every look-up: no time cached behind a timer, so a test's clock is exact.
      ttlResolution: 0,
      perf: { now: clock ? () => clock().getTime() : Date.now },
    });
  }

  /** The reference this activity's turn should store, or undefined when the stored one is current. */
  due(conversationKey: string, activity: Partial<Activity>): DueReference | undefined {
    const route = routeOf(activity);
    if (this.stored.get(conversationKey) === route) return undefined;
    return { kept: { channel: String(activity.channelId), reference: referenceOf(activity) }, route };
  }

  /** The turn that carried `due` was committed. */
  committed(conversationKey: string, due: DueReference): void {
    this.stored.set(conversationKey, due.route);
  }
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
