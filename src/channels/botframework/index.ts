/**
 * Microsoft Teams and the Bot Framework Emulator: `POST /api/messages` through botbuilder's
 * `CloudAdapter`. The only folder that imports botbuilder. A request: refuse what an unauthenticated
 * bot must not take, check the activity (./activity-check.ts), authenticate (when an app id is configured), map it
 * to an `Inbound` and run the turn (./turn.ts), its replies through the connector
 * (./connector-route.ts) or, for `expectReplies`, in the response. One `onTurnError` is the error boundary.
 */
import { DeliveryModes, type Activity } from 'botbuilder';
import type { Request, Response, Server } from 'restify';
import type { Engine } from '../../engine/engine';
import type { Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { ServerPlugin } from '../../server';
import type { BotConversationsRepository } from './conversations-repository';
import type { BotRepliesRepository } from './replies-repository';
import { KeyedMutex } from '../../storage/keyed-mutex';
import { DEFAULT_ORIGIN, isLoopbackAddress, type RequestOrigin } from '../../security/client';
import type { ChannelNotifier } from '../notify';
import type { ChannelProactiveTurns } from '../proactive-turns';
import { incomingActivity, isCardAction, toInbound, type IncomingActivity } from './activity';
import { refuseCardAction } from './card-refresh';
import { createAdapter, isAuthenticationFailure, type BotAdapter, type BotFrameworkAuthConfig, type BotFrameworkAuthEndpoints } from './adapter';
import { throughConnector } from './connector-route';
import { noteActivity, ReplyDelivery } from './delivery';
import { ReplyOutbox } from './reply-outbox';
import { TeamsMemberDirectory } from './members';
import { BotFrameworkNotifier } from './proactive';
import { BotFrameworkProactiveTurns } from './proactive-turns';
import { renderMessages } from './render';
import { BotTurns, inResponse } from './turn';
import type { HandoffDesk } from '../../handoff';
import type { HandoffRepository } from '../../handoff/repository';
import type { HandoffChannelsRepository } from './handoff-channels';
import { TeamsHandoffInbox } from './handoff-inbox';
import { TeamsHandoffSpace } from './handoff-space';

export { BotAdapter, createAdapter, type BotFrameworkAuthConfig, type BotFrameworkAuthEndpoints } from './adapter';

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
  /** Hand-offs (src/handoff/): engineers choose a Teams channel, take requests and chat there (./handoff-inbox.ts). */
  handoffs?: { desk: HandoffDesk; repository: HandoffRepository; channels: HandoffChannelsRepository };
}

export interface BotFrameworkChannel extends ServerPlugin {
  readonly adapter: BotAdapter;
  /** Proactive messages to conversations seen on /api/messages (none without `botConversations`). */
  readonly notifier?: ChannelNotifier;
  /** Sends kept replies a turn could not send, here or on a process that died (none without `botReplies`); the app starts it. */
  readonly replyOutbox?: ReplyOutbox;
  /** Turns the bot starts on its own, sent through the stored reference (none without `botConversations`). */
  readonly proactiveTurns?: ChannelProactiveTurns;
  /** The Teams channel engineers take hand-offs in, once an agent chose it (with `handoffs`). */
  readonly handoffSpace?: TeamsHandoffSpace;
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
  const { translator, logger } = deps;
  // A validated JWT is what proves a Teams sender's identity and the serviceUrl (its claim).
  const authenticated = !!deps.config.MicrosoftAppId;
  const openNetwork = deps.allowUnauthenticatedNetwork ?? false;
  const origin = deps.origin ?? DEFAULT_ORIGIN;
  const adapter = createAdapter(deps.config, deps.authEndpoints);
  const turns = new BotTurns(deps);
  turns.guard(adapter, 'bot framework turn failed');
  // Replies of one conversation go out in the order its turns ran: the engine's lock covers the turn,
  // this one also covers sending, so two quick messages never get interleaved answers.
  const conversations = new KeyedMutex();
  const repository = deps.botConversations;
  const delivery = new ReplyDelivery({
    logger,
    repository,
    replies: deps.botReplies,
    render: (channelId, message, locale) => renderMessages(channelId, [message], turns.t(locale))[0]!,
    note: (locale) => noteActivity(translator.t(locale, 'proactive:undeliveredNote'), locale),
    clock: deps.clock,
    ...deps.replyDelivery,
  });
  const connector = throughConnector({
    delivery,
    members: deps.members ?? new TeamsMemberDirectory({ logger }),
    references: repository !== undefined,
    logger,
    typingAfterMs: deps.typingAfterMs ?? 1500,
  });
  // expectReplies: the caller takes the replies from the HTTP body (kept with the commit for a re-delivery).
  const inBody = inResponse({ delivery });
  const notifier = repository
    ? new BotFrameworkNotifier({ adapter, appId: deps.config.MicrosoftAppId ?? '', repository, conversations, logger, clock: deps.clock })
    : undefined;
  const proactiveTurns = repository
    ? new BotFrameworkProactiveTurns({
        adapter,
        appId: deps.config.MicrosoftAppId ?? '',
        engine: deps.engine,
        references: repository,
        delivery,
        conversations,
        render: (channelId, result) => renderMessages(channelId, result.messages, turns.t(result.locale)),
        logger,
      })
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

  const appId = deps.config.MicrosoftAppId ?? '';
  const handoffs = deps.handoffs;
  const handoffSpace = handoffs ? new TeamsHandoffSpace({ adapter, appId, channels: handoffs.channels, translator }) : undefined;
  const handoffInbox = handoffs ? new TeamsHandoffInbox({ ...handoffs, translator, clock: deps.clock }) : undefined;

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
        if (!inbound) {
          // A press whose data is not a button of ours (a forged or foreign card): refused, nothing runs.
          if (isCardAction(activity)) await refuseCardAction(context, 400, 'BadRequest', 'The pressed button is not one of this bot.');
          return;
        }
        // Engineers in a team's channel (choosing it, taking a request, chatting in its reply chain): not a conversation.
        if (handoffInbox && (await handoffInbox.handle(context, inbound))) return;
        const key = `${inbound.channel}:${inbound.conversationId}`;
        const route = context.activity.deliveryMode === DeliveryModes.ExpectReplies ? inBody : connector;
        await conversations.run(key, () => turns.run(context, inbound, key, route));
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
    proactiveTurns,
    handoffSpace,
    register(server: Server) {
      server.post('/api/messages', handleRequest);
    },
  };
}
