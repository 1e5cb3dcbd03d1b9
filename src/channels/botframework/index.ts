/**
 * Microsoft Teams and the Bot Framework Emulator: `POST /api/messages` through botbuilder's
 * `CloudAdapter`. The only folder that imports botbuilder. A turn: validate the activity (zod),
 * authenticate (when an app id is configured), map it to an `Inbound`, let the engine run the turn,
 * retire the pressed card, send the rendered replies. One `onTurnError` is the error boundary.
 */
import {
  ActivityTypes,
  CardFactory,
  CloudAdapter,
  ConfigurationServiceClientCredentialFactory,
  DeliveryModes,
  type Activity,
  type TurnContext,
} from 'botbuilder';
import { ReusingBotFrameworkAuthentication } from './reusing-auth';
import type { Request, Response, Server } from 'restify';
import type { Config } from '../../config';
import type { Engine } from '../../engine/engine';
import type { Inbound, Locale, TurnResult } from '../../engine/types';
import { normaliseLocale, type Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { ServerPlugin } from '../../server';
import type { BotConversationsRepository } from '../../storage/bot-conversations-repository';
import type { BotRepliesRepository } from '../../storage/bot-replies-repository';
import { KeyedMutex } from '../../storage/keyed-mutex';
import { DEFAULT_ORIGIN, isLoopbackAddress, type RequestOrigin } from '../../security/client';
import type { ChannelNotifier } from '../notify';
import { cardSubmit, incomingActivity, toInbound, type IncomingActivity } from './activity';
import { noteActivity, ReplyDelivery } from './delivery';
import { ReplyOutbox } from './reply-outbox';
import { TeamsMemberDirectory, type KnownPerson } from './members';
import { BotFrameworkNotifier, ConversationReferences } from './proactive';
import { answeredCard, renderMessages, usesCards, type T } from './render';

export type BotFrameworkAuthConfig = Pick<Config, 'MicrosoftAppId' | 'MicrosoftAppPassword' | 'MicrosoftAppType' | 'MicrosoftAppTenantId'>;

export interface BotFrameworkChannelDeps {
  config: BotFrameworkAuthConfig;
  engine: Pick<Engine, 'handle'>;
  translator: Translator;
  logger: Logger;
  /** A turn still running after this long shows "typing…" (opening a case can take seconds). Default 1500. */
  typingAfterMs?: number;
  /** Where channel tokens are verified: Bot Framework's public cloud unless given (a sovereign cloud, a test). */
  authEndpoints?: BotFrameworkAuthEndpoints;
  /**
   * Conversation references (proactive messages) and replies the connector did not take, kept for
   * the next turn. Without it (an in-memory store) neither is kept.
   */
  botConversations?: BotConversationsRepository;
  /**
   * Turns' replies, kept with the turn until the connector took them (issue 15), and the worker that
   * sends what is left (`replyOutbox`). Without it (an in-memory store) replies are sent once.
   */
  botReplies?: BotRepliesRepository;
  /** Timing of kept replies (REPLY_DELIVERY_*): claim lease, worker poll, first retry delay. */
  replyDelivery?: { leaseMs?: number; pollMs?: number; retryBaseMs?: number; workerId?: string };
  /** Teams member look-ups for the person's email; default: a directory with its defaults. */
  members?: TeamsMemberDirectory;
  clock?: () => Date;
  /** Who is this machine (src/security/client.ts); without an app id only it may post activities. */
  origin?: RequestOrigin;
  /** ALLOW_UNAUTHENTICATED_NETWORK: without an app id, take activities and serviceUrls from anywhere. */
  allowUnauthenticatedNetwork?: boolean;
}

export interface BotFrameworkAuthEndpoints {
  /** OpenID metadata whose `jwks_uri` lists the keys channel tokens are signed with. */
  openIdMetadataUrl?: string;
  /** The `iss` of channel tokens. */
  tokenIssuer?: string;
}

export interface BotFrameworkChannel extends ServerPlugin {
  readonly adapter: BotAdapter;
  /** Proactive messages to conversations seen on /api/messages (none without `botConversations`). */
  readonly notifier?: ChannelNotifier;
  /** Sends kept replies a turn could not send, here or on a process that died (none without `botReplies`); the app starts it. */
  readonly replyOutbox?: ReplyOutbox;
}

/** The person as Teams knows them: the email a case needs, the name when the activity had none. */
function withPerson(inbound: Inbound, person: KnownPerson | undefined): Inbound {
  if (!person?.email && !person?.name) return inbound;
  const name = inbound.user.name ?? person.name;
  const email = person.email ?? inbound.user.email;
  return { ...inbound, user: { ...inbound.user, ...(name ? { name } : {}), ...(email ? { email } : {}) } };
}

/** Where the turn keeps the conversation's language once the engine has told us, for onTurnError. */
const LOCALE_KEY = Symbol('pce.locale');

/**
 * CloudAdapter with `processActivity` callable from our route: `process(req, res)` would write its
 * own responses (error messages included, on the console), and we want 400/401/500 bodies that
 * match the rest of the server and go to the structured log.
 */
export class BotAdapter extends CloudAdapter {
  run(authorization: string, activity: Activity, logic: (context: TurnContext) => Promise<void>) {
    return this.processActivity(authorization, activity, logic);
  }
}

/** Bot Framework authentication from validated config. No app id: the adapter runs unauthenticated (local use). */
export function createAdapter(config: BotFrameworkAuthConfig, endpoints: BotFrameworkAuthEndpoints = {}): BotAdapter {
  const credentials = new ConfigurationServiceClientCredentialFactory({
    MicrosoftAppId: config.MicrosoftAppId ?? '',
    MicrosoftAppPassword: config.MicrosoftAppPassword ?? '',
    MicrosoftAppType: config.MicrosoftAppType,
    MicrosoftAppTenantId: config.MicrosoftAppTenantId ?? '',
  });
  const auth = new ReusingBotFrameworkAuthentication(
    {
      MicrosoftAppId: config.MicrosoftAppId ?? '',
      MicrosoftAppTenantId: config.MicrosoftAppTenantId ?? '',
      ...(endpoints.openIdMetadataUrl ? { ToBotFromChannelOpenIdMetadataUrl: endpoints.openIdMetadataUrl } : {}),
      ...(endpoints.tokenIssuer ? { ToBotFromChannelTokenIssuer: endpoints.tokenIssuer } : {}),
    },
    credentials,
  );
  return new BotAdapter(auth);
}

/** jsonwebtoken's errors, which botframework-connector lets through for a badly signed or malformed token. */
const TOKEN_ERRORS = new Set(['JsonWebTokenError', 'NotBeforeError', 'TokenExpiredError']);

function isAuthenticationFailure(err: unknown): boolean {
  const e = err as { statusCode?: unknown; name?: unknown } | null;
  return e?.statusCode === 401 || e?.statusCode === 403 || (typeof e?.name === 'string' && TOKEN_ERRORS.has(e.name));
}

/** Strings (timestamps) become Dates, as botbuilder's own request parsing does. */
function asActivity(activity: IncomingActivity): Activity {
  const out = { ...activity } as Record<string, unknown>;
  for (const key of ['timestamp', 'localTimestamp', 'expiration']) {
    if (typeof out[key] === 'string') out[key] = new Date(out[key] as string);
  }
  return out as unknown as Activity;
}

/**
 * A serviceUrl on this machine (the Emulator, a local test connector): http(s) to `localhost` or a
 * loopback address. Not `*.localhost`: not every resolver keeps those names on this machine.
 */
export function isLoopbackServiceUrl(serviceUrl: string | undefined): boolean {
  if (!serviceUrl) return false;
  try {
    const url = new URL(serviceUrl);
    return (url.protocol === 'http:' || url.protocol === 'https:') && (url.hostname === 'localhost' || isLoopbackAddress(url.hostname));
  } catch {
    return false;
  }
}

export function createBotFrameworkChannel(deps: BotFrameworkChannelDeps): BotFrameworkChannel {
  const { engine, translator, logger } = deps;
  // A validated JWT is what proves a Teams sender's identity and the serviceUrl (its claim).
  const authenticated = !!deps.config.MicrosoftAppId;
  const openNetwork = deps.allowUnauthenticatedNetwork ?? false;
  const origin = deps.origin ?? DEFAULT_ORIGIN;
  const adapter = createAdapter(deps.config, deps.authEndpoints);
  // Replies of one conversation go out in the order its turns ran: the engine's lock covers the turn,
  // this one also covers sending, so two quick messages never get interleaved answers.
  const conversations = new KeyedMutex();
  const repository = deps.botConversations;
  const members = deps.members ?? new TeamsMemberDirectory({ logger });
  const delivery = new ReplyDelivery({
    logger,
    repository,
    replies: deps.botReplies,
    render: (channelId, message, locale) => renderMessages(channelId, [message], tFor(locale))[0]!,
    note: (locale) => noteActivity(translator.t(locale, 'proactive:undeliveredNote'), locale),
    clock: deps.clock,
    ...deps.replyDelivery,
  });
  const references = repository ? new ConversationReferences({ repository, logger, clock: deps.clock }) : undefined;
  const notifier = repository
    ? new BotFrameworkNotifier({ adapter, appId: deps.config.MicrosoftAppId ?? '', repository, conversations, logger, clock: deps.clock })
    : undefined;
  const replyOutbox =
    deps.botReplies && repository
      ? new ReplyOutbox({
          delivery,
          replies: deps.botReplies,
          references: repository,
          adapter,
          appId: deps.config.MicrosoftAppId ?? '',
          conversations,
          logger,
          clock: deps.clock,
          pollMs: deps.replyDelivery?.pollMs,
        })
      : undefined;

  const tFor =
    (locale: Locale): T =>
    (key, params) =>
      translator.t(locale, `botframework:${key}`, params);

  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    const activity = context.activity;
    logger.error(
      {
        err: error,
        channel: activity.channelId,
        conversation: activity.conversation?.id,
        activity: activity.id,
        type: activity.type,
      },
      'bot framework turn failed',
    );
    const locale: Locale = context.turnState.get(LOCALE_KEY) ?? normaliseLocale(activity.locale) ?? 'en';
    try {
      await context.sendActivity({ type: ActivityTypes.Message, text: tFor(locale)('error.apology') });
    } catch (sendError) {
      logger.warn({ err: sendError, conversation: activity.conversation?.id, activity: activity.id }, 'apology could not be sent');
    }
  };

  /**
   * Replaces a pressed card with its answered version (no buttons), so it cannot be pressed again:
   * after an accepted answer, after a command button that moved the conversation (start over,
   * talk to support), and after a press on an outdated card.
   */
  async function retirePressedCard(context: TurnContext, result: TurnResult, t: T): Promise<void> {
    const { activity } = context;
    const submit = cardSubmit.safeParse(activity.value);
    if (!activity.replyToId || !submit.success) return;
    if (activity.deliveryMode === DeliveryModes.ExpectReplies) return; // no connector to update through
    const moved = submit.data.step !== undefined && result.step !== submit.data.step;
    if (!result.answered && !result.stale && !moved) return; // e.g. help: the question is still open
    const answer = result.stale ? undefined : (result.answered?.label ?? submit.data.label);
    const card = answeredCard(submit.data.prompt, answer, t);
    try {
      await context.updateActivity({
        type: ActivityTypes.Message,
        id: activity.replyToId,
        conversation: activity.conversation,
        attachments: [CardFactory.adaptiveCard(card)],
      });
    } catch (err) {
      // The answer still goes out; an old card that keeps its buttons is answered as outdated later.
      logger.warn({ err, conversation: activity.conversation.id, card: activity.replyToId }, 'pressed card could not be updated');
    }
  }

  /** Sends a typing indicator if the turn is still running after `typingAfterMs`; resolves once it is sent (or not). */
  function typingWhileSlow(context: TurnContext): { stop(): Promise<void> } {
    if (context.activity.deliveryMode === DeliveryModes.ExpectReplies || context.activity.type !== ActivityTypes.Message) {
      return { stop: async () => undefined };
    }
    let sent: Promise<void> | undefined;
    const timer = setTimeout(() => {
      sent = context.sendActivity({ type: ActivityTypes.Typing }).then(
        () => undefined,
        (err: unknown) => logger.debug({ err, conversation: context.activity.conversation.id }, 'typing indicator not sent'),
      );
    }, deps.typingAfterMs ?? 1500);
    return {
      async stop() {
        clearTimeout(timer);
        await sent; // the indicator must not arrive after the answer
      },
    };
  }

  async function onTurn(context: TurnContext, received: Inbound): Promise<void> {
    const key = `${received.channel}:${received.conversationId}`;
    // expectReplies: the caller takes the replies from the HTTP body; the bot makes no connector
    // calls then (no look-up, no reference to reach it later, nothing that could fail to send).
    const live = context.activity.deliveryMode !== DeliveryModes.ExpectReplies;
    let inbound = received;
    const typing = typingWhileSlow(context);
    let result: TurnResult;
    try {
      if (live) {
        const [person] = await Promise.all([
          received.channel === 'msteams' ? members.find(context) : undefined,
          references?.remember(key, context.activity),
        ]);
        inbound = withPerson(received, person);
      }
      // The replies are committed with the turn: held by this process (live) or answered in the body.
      const keepReplies = delivery.keepReplies(live, inbound.activityId !== undefined);
      result = await engine.handle(inbound, keepReplies ? { keepReplies } : {});
    } finally {
      await typing.stop();
    }
    context.turnState.set(LOCALE_KEY, result.locale);
    if (result.duplicate) {
      // Handled before: replies the connector has not taken go now, or the body gets the same ones.
      const activityKey = inbound.activityId ? `${inbound.channel}:${inbound.activityId}` : undefined;
      await delivery.redelivered(context, key, activityKey, live);
      return;
    }
    const t = tFor(result.locale);
    if (usesCards(inbound.channel) && inbound.choice) await retirePressedCard(context, result, t);
    const replies = renderMessages(inbound.channel, result.messages, t);
    if (!live) {
      if (replies.length) await context.sendActivities(replies);
      return;
    }
    // Kept replies of earlier turns go first; what the connector does not take now stays pending.
    await delivery.afterTurn(context, key, result.storedReplies?.turn, replies, result.locale);
  }

  async function handleRequest(req: Request, res: Response): Promise<void> {
    // Without an app id nobody is authenticated: only this machine may talk to the bot, or anyone who
    // reaches the port could make it call any URL (serviceUrl) and speak as anyone.
    if (!authenticated && !openNetwork && !origin.isLocal(req)) {
      logger.info('bot framework request refused: no MicrosoftAppId, and the request is not from this machine');
      res.send(403, { code: 'Forbidden', message: 'Without MicrosoftAppId this endpoint answers only this machine.' });
      return;
    }
    const parsed = incomingActivity.safeParse(req.body);
    if (!parsed.success) {
      res.send(400, { code: 'BadRequest', message: 'The body is not a Bot Framework activity.' });
      return;
    }
    const activity = parsed.data;
    if (!authenticated && !openNetwork && !isLoopbackServiceUrl(activity.serviceUrl)) {
      logger.info({ channel: activity.channelId }, 'bot framework request refused: no MicrosoftAppId, and serviceUrl is not on this machine');
      res.send(403, { code: 'Forbidden', message: 'Without MicrosoftAppId replies go only to a serviceUrl on this machine.' });
      return;
    }
    const inbound = toInbound(activity, { authenticated });
    const authorization = req.header('authorization') ?? '';
    try {
      const response = await adapter.run(authorization, asActivity(activity), async (context) => {
        if (!inbound) return;
        await conversations.run(`${inbound.channel}:${inbound.conversationId}`, () => onTurn(context, inbound));
      });
      if (response?.body !== undefined) res.send(response.status, response.body);
      else res.send(response?.status ?? 200);
    } catch (err) {
      if (isAuthenticationFailure(err)) {
        logger.info({ channel: activity.channelId, activity: activity.id }, 'bot framework request not authenticated');
        res.send(401, { code: 'Unauthorized', message: 'A valid Bot Framework token is required.' });
        return;
      }
      // onTurnError catches turn failures; this is the adapter itself failing (e.g. no connector).
      logger.error({ err, channel: activity.channelId, conversation: activity.conversation.id, activity: activity.id }, 'bot framework request failed');
      res.send(500, { code: 'InternalServer', message: 'The activity could not be processed. It has been logged.' });
    }
  }

  return {
    name: 'botframework',
    adapter,
    notifier,
    replyOutbox,
    register(server: Server) {
      server.post('/api/messages', handleRequest);
    },
  };
}
