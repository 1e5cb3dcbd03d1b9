/**
 * One Bot Framework turn, the same for Teams and the Emulator (`/api/messages`, ./index.ts) and for
 * the web chat bridge (./directline-bridge.ts): the activity's `Inbound` goes through the engine, the
 * replies are rendered in the conversation's language, a pressed card is retired, and the replies
 * are sent. What differs is how the replies leave: through the connector (./connector-route.ts), in
 * the response to an `expectReplies` request (`inResponse`), or in that response on their way into
 * the web chat's activity stream. That is a `ReplyRoute`, made once with its channel and picked per
 * activity, so choosing it costs a turn nothing. `guard` is the adapter's one error boundary.
 */
import { ActivityTypes, type Activity, type TurnContext } from 'botbuilder';
import type { Engine } from '../../engine/engine';
import type { Inbound, Locale, TurnOptions, TurnResult } from '../../engine/types';
import { normaliseLocale, type Translator } from '../../i18n';
import type { Logger } from '../../log';
import { isCardAction, pressOf, type CardSubmit } from './activity';
import { refuseCardAction } from './card-refresh';
import type { BotAdapter } from './adapter';
import type { ReplyDelivery } from './delivery';
import { renderMessages, type T } from './render';

/** A typing indicator under way; `stop` resolves once it was sent (or not), so it never follows the answer. */
export interface Typing {
  stop(): Promise<void>;
}

/** How a turn's replies leave, and what comes with that. */
export interface ReplyRoute {
  /** Shows "typing…" while a slow turn runs: only where a message can reach the person before the answer. */
  typing?(context: TurnContext): Typing | undefined;
  /** What the engine is asked beyond the Inbound: whether and how the replies are kept with the commit, the channel's own rows, who the person is. */
  options(context: TurnContext, inbound: Inbound): TurnOptions;
  /** The engine's messages as this route's channel shows them. */
  render(channelId: string, result: TurnResult, t: T): Partial<Activity>[];
  /** After a press on a card (the turn's Inbound has a choice): retires it in place, or by a replacement among `replies`. */
  retireCard?(context: TurnContext, result: TurnResult, t: T, replies: Partial<Activity>[]): Promise<unknown> | undefined;
  send(context: TurnContext, conversationKey: string, result: TurnResult, replies: Partial<Activity>[]): Promise<unknown> | undefined;
  /** The activity was handled before: sends what is still owed for it, never a second answer. */
  redelivered?(context: TurnContext, conversationKey: string, inbound: Inbound, t: T): Promise<unknown>;
}

/** Where a turn keeps the conversation's language once the engine has told it, for the apology. */
const LOCALE_KEY = Symbol('pce.locale');

/** Options for the engine when nothing is kept; shared, as the engine only reads them. */
export const NO_OPTIONS: TurnOptions = Object.freeze({});

export interface BotTurnsDeps {
  engine: Pick<Engine, 'handle'>;
  translator: Translator;
  logger: Logger;
}

export class BotTurns {
  private readonly translations = new Map<Locale, T>();

  constructor(private readonly deps: BotTurnsDeps) {}

  /** One activity's turn (its Inbound), its replies leaving by `route`. */
  async run(context: TurnContext, inbound: Inbound, conversationKey: string, route: ReplyRoute): Promise<void> {
    const typing = route.typing?.(context);
    let result: TurnResult;
    try {
      result = await this.deps.engine.handle(inbound, route.options(context, inbound));
    } finally {
      if (typing) await typing.stop();
    }
    context.turnState.set(LOCALE_KEY, result.locale);
    if (result.duplicate) {
      if (route.redelivered) await route.redelivered(context, conversationKey, inbound, this.t(result.locale));
      return;
    }
    const t = this.t(result.locale);
    const replies = route.render(inbound.channel, result, t);
    if (inbound.choice && route.retireCard) await route.retireCard(context, result, t, replies);
    await route.send(context, conversationKey, result, replies);
  }

  /** Keys of the `botframework` namespace in `locale` (one function per language, made once). */
  t(locale: Locale): T {
    let t = this.translations.get(locale);
    if (!t) {
      t = (key, params) => this.deps.translator.t(locale, `botframework:${key}`, params);
      this.translations.set(locale, t);
    }
    return t;
  }

  /** The adapter's error boundary: the failure is logged as `message`, the person gets an apology in their language. */
  guard(adapter: BotAdapter, message: string): void {
    const { logger } = this.deps;
    adapter.onTurnError = async (context: TurnContext, error: Error) => {
      const { activity } = context;
      logger.error({ err: error, channel: activity.channelId, conversation: activity.conversation?.id, activity: activity.id, type: activity.type }, message);
      const locale: Locale = context.turnState.get(LOCALE_KEY) ?? normaliseLocale(activity.locale) ?? 'en';
      const apology = this.t(locale)('error.apology');
      // A pressed Action.Execute button waits for the invoke's answer: it shows the apology too.
      if (isCardAction(activity)) await refuseCardAction(context, 500, 'InternalServerError', apology);
      try {
        await context.sendActivity({ type: ActivityTypes.Message, text: apology });
      } catch (sendError) {
        logger.warn({ err: sendError, conversation: activity.conversation?.id, activity: activity.id }, 'apology could not be sent');
      }
    };
  }
}

/** `${channel}:${activityId}`, as kept replies know the activity they answer. */
export function activityKeyOf(inbound: Inbound): string | undefined {
  return inbound.activityId ? `${inbound.channel}:${inbound.activityId}` : undefined;
}

/**
 * Whether the card pressed in this turn is retired, and what it then shows as chosen: after an
 * accepted answer, its label; after a press on an outdated card, nothing (answered elsewhere); and,
 * with `movedToo`, after a command button that moved the conversation on (start over, talk to
 * support), the button's label. Undefined while the card's question is still open (e.g. help).
 */
export function pressedCard(activity: Pick<Activity, 'type' | 'name' | 'value'>, result: TurnResult, movedToo: boolean): { submit: CardSubmit; answer: string | undefined } | undefined {
  const submit = pressOf(activity);
  if (!submit) return undefined;
  const moved = movedToo && submit.step !== undefined && result.step !== submit.step;
  if (!result.answered && !result.stale && !moved) return undefined;
  return { submit, answer: result.stale ? undefined : (result.answered?.label ?? submit.label) };
}

export interface InResponseOptions {
  /** Keeps the replies with the commit, so that a re-delivery of the activity gets the same ones. */
  delivery?: ReplyDelivery;
  /** Default: the Bot Framework channel's own rendering (`renderMessages`). */
  render?: ReplyRoute['render'];
  retireCard?: ReplyRoute['retireCard'];
}

/**
 * Replies that go back in the response (`expectReplies`): the caller passes them on, so nothing goes
 * out before the turn ends and the bot makes no connector call (no look-up, nothing that could fail
 * to send).
 */
export function inResponse(opts: InResponseOptions = {}): ReplyRoute {
  const { delivery } = opts;
  // Kept only to answer a re-delivery the same, so not for an activity without an id.
  const keep = delivery?.keepReplies(false);
  const kept: TurnOptions = keep ? Object.freeze({ keepReplies: keep }) : NO_OPTIONS;
  return {
    options: (_context, inbound) => (inbound.activityId !== undefined ? kept : NO_OPTIONS),
    render: opts.render ?? ((channelId, result, t) => renderMessages(channelId, result.messages, t)),
    ...(opts.retireCard ? { retireCard: opts.retireCard } : {}),
    send: (context, _key, _result, replies) => (replies.length ? context.sendActivities(replies) : undefined),
    ...(delivery ? { redelivered: (context, key, inbound) => delivery.redelivered(context, key, activityKeyOf(inbound), false) } : {}),
  };
}
