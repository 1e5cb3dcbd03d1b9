/**
 * Replies through the connector (Teams, the Emulator, without `expectReplies`): "typing…" while a
 * slow turn runs, the person looked up in Teams when the engine needs them (a new run, a case; not
 * every turn of a returning person), the conversation's reference
 * committed with the turn when it is new or changed (./reference-writer.ts), a pressed card replaced by its answered version (in the invoke's response for an
 * Action.Execute press, ./card-refresh.ts; by an update for an older card's Action.Submit), and the
 * replies sent by ./delivery.ts so that none is lost once the turn is committed.
 */
import { ActivityTypes, CardFactory, type TurnContext } from 'botbuilder';
import type { TurnOptions, TurnResult } from '../../engine/types';
import { isCardAction, pressOf } from './activity';
import { refreshCard } from './card-refresh';
import type { Logger } from '../../log';
import type { ReplyDelivery } from './delivery';
import type { TeamsMemberDirectory } from './members';
import { referenceWithTurn } from './proactive';
import { answeredCard, continuedCard, renderMessages, usesCards, type T } from './render';
import { activityKeyOf, NO_OPTIONS, pressedCard, type ReplyRoute, type Typing } from './turn';

export interface ConnectorRouteDeps {
  delivery: ReplyDelivery;
  members: TeamsMemberDirectory;
  /** Whether conversation references are stored with their turns, for proactive messages (not without a store). */
  references: boolean;
  logger: Logger;
  /** A turn still running after this long shows "typing…". */
  typingAfterMs: number;
}

export function throughConnector(deps: ConnectorRouteDeps): ReplyRoute {
  const { delivery, members, references, logger } = deps;
  // The replies are committed with the turn, held by this process until the connector took them.
  const keep = delivery.keepReplies(true);
  const options: TurnOptions = keep ? Object.freeze({ keepReplies: keep }) : NO_OPTIONS;
  return {
    typing: (context) => typingWhileSlow(context, deps.typingAfterMs, logger),
    options(context, inbound) {
      // Teams tells who the person is (the email a case needs) when the engine asks: a new run, a case.
      const identify = inbound.channel === 'msteams' ? () => members.find(context) : undefined;
      // The conversation's reference goes with the turn's commit when its route is new to the conversation.
      if (!references && !identify) return options;
      return { ...options, ...(identify ? { identify } : {}), ...(references ? { marked: referenceWithTurn(context.activity) } : {}) };
    },
    render: (channelId, result, t) => renderMessages(channelId, result.messages, t),
    retireCard: (context, result, t) => (isCardAction(context.activity) ? answerPress(context, result, t) : retirePressedCard(context, result, t, logger)),
    // Kept replies of earlier turns go first; what the connector does not take now stays pending.
    send(context, conversationKey, result, replies) {
      return delivery.afterTurn(context, conversationKey, result.storedReplies, replies, result.locale);
    },
    // Replies the connector has not taken yet go now.
    async redelivered(context, conversationKey, inbound, t) {
      await delivery.redelivered(context, conversationKey, activityKeyOf(inbound), true);
      // A press whose first answer Teams did not get: the card points to the latest message.
      if (isCardAction(context.activity)) await refreshCard(context, answeredCard(pressOf(context.activity)?.prompt, undefined, t));
    },
  };
}

/** Answers an Action.Execute press with what its card becomes: answered, or pointing below while the question is open. */
function answerPress(context: TurnContext, result: TurnResult, t: T): Promise<unknown> {
  const pressed = pressedCard(context.activity, result, true);
  return refreshCard(context, pressed ? answeredCard(pressed.submit.prompt, pressed.answer, t) : continuedCard(pressOf(context.activity)?.prompt, t));
}

/** Sends a typing indicator if a message's (or a pressed button's) turn is still running after `afterMs`. */
function typingWhileSlow(context: TurnContext, afterMs: number, logger: Logger): Typing | undefined {
  if (context.activity.type !== ActivityTypes.Message && !isCardAction(context.activity)) return undefined;
  let sent: Promise<void> | undefined;
  const timer = setTimeout(() => {
    sent = context.sendActivity({ type: ActivityTypes.Typing }).then(
      () => undefined,
      (err: unknown) => logger.debug({ err, conversation: context.activity.conversation.id }, 'typing indicator not sent'),
    );
  }, afterMs);
  return {
    async stop() {
      clearTimeout(timer);
      await sent; // the indicator must not arrive after the answer
    },
  };
}

/**
 * Replaces a pressed Teams card with its answered version (no buttons), so it cannot be pressed
 * again: after an accepted answer, after a command button that moved the conversation (start over,
 * talk to support), and after a press on an outdated card.
 */
async function retirePressedCard(context: TurnContext, result: TurnResult, t: T, logger: Logger): Promise<void> {
  const { activity } = context;
  if (!usesCards(activity.channelId) || !activity.replyToId) return;
  const pressed = pressedCard(activity, result, true);
  if (!pressed) return;
  try {
    await context.updateActivity({
      type: ActivityTypes.Message,
      id: activity.replyToId,
      conversation: activity.conversation,
      attachments: [CardFactory.adaptiveCard(answeredCard(pressed.submit.prompt, pressed.answer, t))],
    });
  } catch (err) {
    // The answer still goes out; an old card that keeps its buttons is answered as outdated later.
    logger.warn({ err, conversation: activity.conversation.id, card: activity.replyToId }, 'pressed card could not be updated');
  }
}
