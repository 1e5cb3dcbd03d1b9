/**
 * The Webex channel: `POST /api/webex` receives webhook notifications, keeps each verified one in
 * the store's inbox, answers 2xx at once and runs the turn afterwards, in arrival order per space.
 * A notification acknowledged but not finished (the process died) is resumed at the next start, or
 * by another instance once its claim's lease runs out; the turn marks it in its own transaction, so
 * it is answered once. This file only puts the pieces together:
 * - webhook-receiver.ts: signature, validation, replay window, kept before the 2xx;
 * - inbox-worker.ts: the leased polling worker over the inbox, the per-space order, claims renewed;
 * - messages.ts: a notification becomes a turn; replies.ts: what the person sees, card retirement;
 * - people.ts: the bot's identity and people's emails; mentions.ts: the bot's mention removed.
 *
 * Why a thin adapter of our own rather than a package from npm (evaluated for issue 4):
 * - `botbuilder-adapter-webex` (1.0.x, from howdyai/botkit; needs `botkit` ^4.15, the last botkit
 *   release, and `botbuilder`): answers 200 first and then checks X-Spark-Signature against
 *   `JSON.stringify(req.body)` — a re-serialised body, not the bytes Webex signed — with `!==`
 *   (not constant time), so a forgery is never told 401. It fetches the bot's own messages before
 *   noticing they are its own, passes `attachmentActions` on as a bare event without reading the
 *   inputs, and would bring botbuilder outside src/channels/botframework/ plus the whole `webex` SDK.
 * - `webex-node-bot-framework` (2.3.x, WebexCommunity): the same `JSON.stringify` + `!==` check,
 *   invalid signatures silently dropped after a 200; it pins the `webex` SDK 2.4.2 and mongodb 3,
 *   keeps its own per-space bot objects and storage, and would own the conversation model that our
 *   engine already owns (one store, one turn discipline, dedupe on data.id, card retirement).
 * What the bot needs from Webex is a handful of REST calls and one HMAC check: `api.ts`,
 * `signature.ts` and the files above, tested against a local fake speaking the same protocol, are
 * smaller than either dependency and verify the signature the way Webex documents it.
 */
import type { Server } from 'restify';
import type { Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { ServerPlugin } from '../../server';
import type { Store } from '../../storage/store';
import type { WebexApi, WebexPerson } from './api';
import { WebexInboxWorker, type WebexInboxOptions } from './inbox-worker';
import { WebexRepository } from './inbox-repository';
import { WebexMessages, type TurnHandler } from './messages';
import { WebexPeople } from './people';
import { WebexProactiveTurns } from './proactive-turns';
import { WebexHandoffSpace, type WebexHandoffSpaceOptions } from './handoff-space';
import type { ClaimedJob } from './notification';
import { WebexReplies } from './replies';
import { WebexWebhookVerifier } from './signature';
import { WebexWebhookReceiver } from './webhook-receiver';

export { WEBEX_ROUTE } from './webhook-receiver';
export { WEBEX_CHANNEL_ID } from './notification';
export type { TurnHandler } from './messages';
export type { WebexInboxOptions } from './inbox-worker';

/**
 * The store and translator are read when used, never at construction: the app builds them after
 * the channel (a plug-in of the server it assembles), so the pieces get this object, not copies.
 */
export interface WebexChannelOptions {
  api: WebexApi;
  engine: TurnHandler;
  store: Store;
  translator: Translator;
  logger: Logger;
  /** The webhooks' secret. Unset only with `insecureDev` (local experiments): nothing is verified. */
  secret?: string;
  insecureDev?: boolean;
  maxBodyBytes: number;
  inbox?: WebexInboxOptions;
  /**
   * A notification whose event (`data.created`) is older than this is refused: a replay of a signed
   * notification. It must stay shorter than the inbox's memory (`inbox.retentionMs`), which catches
   * the replays younger than it. Default 60 minutes (WEBEX_MAX_NOTIFICATION_AGE_MINUTES).
   */
  maxNotificationAgeMs?: number;
  clock?: () => Date;
  /** The space where engineers take hand-offs (./handoff-space.ts): its notifications go there, not to the engine. */
  handoffSpace?: WebexHandoffSpaceOptions;
}

const DEFAULT_MAX_NOTIFICATION_AGE_MS = 60 * 60_000;

export class WebexChannel implements ServerPlugin {
  readonly name = 'webex';
  /** Turns the bot starts on its own, posted to the space (src/channels/proactive-turns.ts). */
  readonly proactiveTurns: WebexProactiveTurns;
  /** The hand-off expert space, when HANDOFF_WEBEX_ROOM_ID is set (src/handoff/). */
  readonly handoffSpace?: WebexHandoffSpace;
  private readonly people: WebexPeople;
  private readonly worker: WebexInboxWorker;
  private readonly webhook: WebexWebhookReceiver;
  private repository?: WebexRepository;

  constructor(private readonly opts: WebexChannelOptions) {
    let verifier: WebexWebhookVerifier | undefined;
    if (opts.secret) verifier = new WebexWebhookVerifier(opts.secret);
    else if (!opts.insecureDev) throw new Error('The Webex channel needs a webhook secret (WEBEX_WEBHOOK_SECRET) unless WEBEX_INSECURE_DEV is on');
    else opts.logger.warn('Webex: WEBEX_INSECURE_DEV is on and no secret is set: notifications are NOT verified');
    const clock = opts.clock ?? (() => new Date());
    // Built on first use: it registers its turn writer with the store, which exists only by then.
    const inbox = () => (this.repository ??= new WebexRepository(opts.store));
    this.people = new WebexPeople({ api: opts.api, logger: opts.logger, signed: !!verifier });
    const replies = new WebexReplies(opts, inbox, clock);
    const messages = new WebexMessages(opts, this.people, replies);
    this.proactiveTurns = new WebexProactiveTurns(opts.engine, replies);
    const space = opts.handoffSpace
      ? new WebexHandoffSpace({ ...opts.handoffSpace, api: opts.api, people: this.people, translator: () => opts.translator, logger: opts.logger })
      : undefined;
    this.handoffSpace = space;
    const handler = {
      handle: (job: ClaimedJob) => (space?.owns(job.n) ? space.handle(job) : messages.handle(job)),
      apologise: replies.apologise.bind(replies),
    };
    this.worker = new WebexInboxWorker(opts, inbox, handler, clock, opts.inbox);
    this.webhook = new WebexWebhookReceiver({
      logger: opts.logger,
      verifier,
      maxBodyBytes: opts.maxBodyBytes,
      maxNotificationAgeMs: opts.maxNotificationAgeMs ?? DEFAULT_MAX_NOTIFICATION_AGE_MS,
      clock,
      me: () => this.people.me,
      inbox: this.worker,
    });
  }

  /** Identifies this instance's claims on inbox notifications. */
  get workerId(): string {
    return this.worker.workerId;
  }

  register(server: Server): void {
    // Learn who we are now, so a wrong token shows in the start-up log rather than at the first message.
    this.start().catch((err: unknown) =>
      this.opts.logger.warn({ err }, 'Webex: GET /people/me failed; the bot identity is fetched again with the first notification'),
    );
    // Resume what an earlier run (or a dead instance) acknowledged but did not finish, then keep looking.
    this.worker.start();
    this.webhook.register(server);
  }

  /** True while notifications are waiting or being handled. */
  get busy(): boolean {
    return this.worker.busy;
  }

  /** Resolves when every notification received so far has been handled (graceful shutdown, tests). */
  drain(): Promise<void> {
    return this.worker.drain();
  }

  /** Stops looking for unfinished notifications (shutdown); what is queued is finished by drain(). */
  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** Learns the bot's own identity (to ignore its own messages); logs who we are at start-up. */
  async start(): Promise<WebexPerson> {
    const me = await this.people.bot();
    this.opts.logger.info({ botId: me.id, name: me.displayName }, 'Webex channel ready');
    return me;
  }

  /** One pass over the inbox (the worker runs it every poll; tests call it to race instances). */
  resumeUnfinished(): Promise<number> {
    return this.worker.resumeUnfinished();
  }
}
