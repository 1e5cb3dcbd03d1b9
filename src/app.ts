/**
 * Assembles the running bot from a validated Config: storage, translator, metrics, engine, the
 * channel plug-ins and the HTTP server. `src/index.ts` adds the process concerns (signals, exit);
 * tests call `createApplication` directly and listen on port 0.
 *
 * Adding a channel: build its `ServerPlugin` in `channelPlugins()` below (one line per channel).
 */
import { agentTriageFlow } from '../dialogs/agent-triage/machine';
import { caseClosureFlow } from '../dialogs/case-closure/machine';
import { CASE_CLOSED_EVENT } from '../dialogs/case-closure/steps';
import { offeringAPerson, provisioningContactFlow } from '../dialogs/provisioning-contact/machine';
import { createBotFrameworkChannel } from './channels/botframework';
import { createDirectLineBridge } from './channels/botframework/directline-bridge';
import { createWebexChannel } from './channels/webex';
import { createWebChatPlugins } from './channels/directline';
import type { Config } from './config';
import { Engine, type EngineOptions } from './engine/engine';
import { createTranslator, type Translator } from './i18n';
import { createLogger, type Logger } from './log';
import { createMetrics, type BotMetrics } from './metrics/metrics';
import { metricsExposure, type MetricsListener } from './metrics/http';
import { createReportPages } from './funnel/pages';
import { buildServer, type App, type ServerPlugin } from './server';
import { createCases, type Cases } from './cases/index';
import { createStore } from './storage';
import { WriteProbe } from './storage/write-probe';
import { RetentionJob, type RetentionOptions } from './retention/retention-job';
import { UploadStore } from './channels/directline/uploads';
import { createDirectLineLimits } from './channels/directline/rate-limits';
import type { Store } from './storage/store';
import { Notifiers } from './channels/notify';
import { ProactiveTurnsByChannel } from './channels/proactive-turns';
import { DirectLineProactiveTurns } from './channels/directline/proactive-turns';
import { webChatRenderer } from './channels/botframework/proactive-turns';
import { ProactiveFlows } from './engine/proactive';
import { caseClosedFlow } from './cases/update-notices';
import { createFollowups, type Followups } from './followups/index';
import { createHandoffs, type HandoffAgents, type Handoffs } from './handoff/index';
import { handoffFlow } from '../dialogs/handoff/machine';
import { createWebexNotifier } from './channels/webex/notify';
import { DirectLineNotifier } from './channels/directline/notify';
import { SqlActivityLog } from './channels/directline/sql-activity-log';
import { TicketNotice } from './cases/ticket-notice';
import { BotConversationsRepository } from './channels/botframework/conversations-repository';
import { BotRepliesRepository } from './channels/botframework/replies-repository';
import { HandoffChannelsRepository } from './channels/botframework/handoff-channels';
import { RequestOrigin } from './security/client';
import { Agents } from './security/identity';
import { HostAllowList, hostGuard } from './security/hosts';

export interface ApplicationOptions {
  logger?: Logger;
  /** An already built store (tests); default: `createStore(config)`. Opened here either way. */
  store?: Store;
  translator?: Translator;
  /** Extra engine options (a fixed clock in tests). */
  engine?: Partial<Omit<EngineOptions, 'store' | 'translator' | 'logger'>>;
  /** Extra plug-ins after the built-in channels (tests add fakes here). */
  plugins?: ServerPlugin[];
  /** Metrics without Node process collectors (tests building many apps in one process). */
  processMetrics?: boolean;
  /** More for `/healthz` to report (npm start: whether the free-text models are trained yet). */
  health?: () => Record<string, unknown>;
  /**
   * Tests only: who may act as a hand-off engineer, where the test's Teams fake cannot prove an id
   * (no token service on loopback). Default: AGENT_IDS by proven ids (src/security/identity.ts).
   */
  handoffAgents?: HandoffAgents;
  /** Retention job overrides (a fixed clock in tests). */
  retention?: Partial<Pick<RetentionOptions, 'clock' | 'batchSize'>>;
}

export interface Application {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly engine: Engine;
  readonly translator: Translator;
  readonly metrics: BotMetrics;
  /** Support cases: repository and delivery worker. */
  readonly cases: Cases;
  /** Deletes idle conversations' personal data; runs while listening. */
  readonly retention: RetentionJob;
  /** Follow-ups ("check back with me tomorrow") and "did this help?" ratings (issue 23). */
  readonly followups: Followups;
  /** Talk to a person: live hand-offs to support engineers in a Webex space or a Teams channel (issue 22). */
  readonly handoffs: Handoffs;
  readonly http: App;
  /** Listens on `port` (default config.PORT) and `host` (default config.HOST); starts a separate metrics listener when configured. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Graceful stop: no new requests, in-flight turns finish (up to `timeoutMs`), storage closes. True when all finished in time. */
  close(timeoutMs?: number): Promise<boolean>;
}

interface ChannelContext {
  config: Config;
  engine: Engine;
  translator: Translator;
  logger: Logger;
  store: Store;
  /** Proactive messages: each channel that can reach a conversation on its own registers here. */
  notifiers: Notifiers;
  /** Turns the bot starts on its own (a question with buttons): each channel that can deliver one registers here. */
  proactiveTurns: ProactiveTurnsByChannel;
  /** Who is this machine, which client a request is (src/security/client.ts). */
  origin: RequestOrigin;
  /** Background workers of the channels (kept replies): started by `listen`, stopped by `close`. */
  workers: { start(): void; stop(): Promise<void> }[];
  /** Hand-offs: channels add their expert spaces (a Webex space, a Teams channel). */
  handoffs: Handoffs;
}

function channelPlugins(ctx: ChannelContext): ServerPlugin[] {
  const limits = ctx.config.WEBCHAT_ENABLED ? createDirectLineLimits({ config: ctx.config, logger: ctx.logger, origin: ctx.origin }) : undefined;
  return [
    // First: a Host that is none of our names (DNS rebinding) is refused before any route.
    hostGuard({ allowList: new HostAllowList([ctx.config.PUBLIC_URL, ctx.config.WEBEX_PUBLIC_URL], ctx.config.ALLOWED_HOSTS), exempt: hostCheckExemptions(ctx.config), logger: ctx.logger }),
    // Per-client limits on the public /directline/* routes only (Teams and Webex are authenticated).
    ...(limits ? [limits] : []),
    botFrameworkChannel(ctx),
    ...createWebChatPlugins({
      config: ctx.config,
      bridge: createDirectLineBridge({ engine: ctx.engine, translator: ctx.translator, logger: ctx.logger }),
      translator: ctx.translator,
      logger: ctx.logger,
      store: ctx.store,
      origin: ctx.origin,
    }),
    // Webex: only when WEBEX_BOT_TOKEN is set (config refuses a token without a webhook secret).
    ...[webexChannel(ctx)].filter((p) => p !== undefined),
  ];
}

/** Webex, when WEBEX_BOT_TOKEN is set; its proactive turns are posted to the space. */
function webexChannel(ctx: ChannelContext): ServerPlugin | undefined {
  const roomId = ctx.config.HANDOFF_WEBEX_ROOM_ID;
  const handoffSpace = roomId ? { roomId, desk: ctx.handoffs.desk, repository: ctx.handoffs.repository } : undefined;
  const channel = createWebexChannel(ctx.config, { engine: ctx.engine, store: ctx.store, translator: ctx.translator, logger: ctx.logger, handoffSpace });
  if (channel) ctx.proactiveTurns.register('webex', channel.proactiveTurns);
  if (channel?.handoffSpace) ctx.handoffs.spaces.add(channel.handoffSpace);
  return channel;
}

/** Routes that grant nothing for being local and whose Host is the platform's business: checked by their own authentication. */
function hostCheckExemptions(config: Config): ReadonlySet<string> {
  return new Set([
    '/healthz',
    '/readyz',
    ...(config.MicrosoftAppId ? ['/api/messages'] : []),
    ...(config.WEBEX_BOT_TOKEN && config.WEBEX_WEBHOOK_SECRET ? ['/api/webex'] : []),
    ...(config.CASE_BACKEND === 'webhook' && config.CASE_WEBHOOK_SECRET ? ['/api/cases/events'] : []),
  ]);
}

/** Teams and the Emulator; it keeps conversation references (proactive messages) and undelivered replies in the store. */
function botFrameworkChannel(ctx: ChannelContext): ServerPlugin {
  const channel = createBotFrameworkChannel({
    config: ctx.config,
    engine: ctx.engine,
    translator: ctx.translator,
    logger: ctx.logger,
    botConversations: new BotConversationsRepository(ctx.store),
    // Replies kept with their turn until the connector took them (issue 15); registers their turn writer.
    botReplies: new BotRepliesRepository(ctx.store),
    replyDelivery: {
      leaseMs: ctx.config.REPLY_DELIVERY_LEASE_SECONDS * 1000,
      pollMs: ctx.config.REPLY_DELIVERY_POLL_SECONDS * 1000,
      retryBaseMs: ctx.config.REPLY_DELIVERY_RETRY_SECONDS * 1000,
    },
    origin: ctx.origin,
    allowUnauthenticatedNetwork: ctx.config.ALLOW_UNAUTHENTICATED_NETWORK,
    // Engineers may choose a Teams channel for hand-offs ("use this channel for hand-offs") and take them there.
    handoffs: { desk: ctx.handoffs.desk, repository: ctx.handoffs.repository, channels: new HandoffChannelsRepository(ctx.store) },
  });
  if (channel.handoffSpace) ctx.handoffs.spaces.add(channel.handoffSpace);
  if (channel.notifier) ctx.notifiers.registerFallback(channel.notifier);
  if (channel.replyOutbox) ctx.workers.push(channel.replyOutbox);
  if (channel.proactiveTurns) ctx.proactiveTurns.registerFallback(channel.proactiveTurns);
  const webex = createWebexNotifier(ctx.config, ctx.logger);
  if (webex) ctx.notifiers.register('webex', webex);
  if (ctx.config.WEBCHAT_ENABLED) {
    const log = new SqlActivityLog(ctx.store);
    ctx.notifiers.register('directline', new DirectLineNotifier(log));
    ctx.proactiveTurns.register('directline', new DirectLineProactiveTurns({ engine: ctx.engine, log, render: webChatRenderer(ctx.translator) }));
  }
  return channel;
}

export async function createApplication(config: Config, options: ApplicationOptions = {}): Promise<Application> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const store = options.store ?? createStore(config, logger);
  await store.open();
  try {
    const translator = options.translator ?? createTranslator();
    const metrics = createMetrics({ processMetrics: options.processMetrics ?? true });
    // The case's external ticket id, told to the person as soon as the backend returns it.
    const notifiers = new Notifiers();
    // One decision of who is an agent, for triage and for reading any case (src/security/identity.ts).
    const agents = new Agents(config.AGENT_IDS);
    const ticketNotice = new TicketNotice({ notifier: notifiers, store, translator, logger });
    // Questions the bot asks on its own (issue 21: "is it solved?" when a case is closed).
    const proactiveTurns = new ProactiveTurnsByChannel(store);
    const proactive = new ProactiveFlows().register(CASE_CLOSED_EVENT, caseClosedFlow);
    // "Did this help?" at every ending, and follow-ups fired as turns of their own (issue 23).
    const followups = createFollowups({ config, store, logger, turns: proactiveTurns, metrics, worker: { clock: options.engine?.clock } });
    followups.registerWith(proactive);
    // Talk to a person (issue 22): the engineers' spaces are added by the channels below.
    const handoffs = createHandoffs({ config, store, translator, logger, agents: options.handoffAgents ?? agents, notifier: notifiers, turns: proactiveTurns, clock: options.engine?.clock, events: metrics });
    metrics.setHandoffResolvedSource(() => handoffs.repository.countResolved());
    handoffs.registerFlows(proactive);
    // Support cases (issue 5); their repository registers the cases' turn writer with the store.
    const cases = createCases({
      config,
      store,
      translator,
      logger,
      agents,
      onAttempt: (backend, result) => metrics.recordCaseDelivery(backend, result),
      onDelivered: ticketNotice.onDelivered,
      onRejected: ticketNotice.onRejected,
      // Status updates from the support system, told through the same notifiers (issue 21).
      notifier: notifiers,
      turns: proactiveTurns,
    });
    metrics.setPendingOutboxSource(cases.pendingCount);
    metrics.setReadAheadSource(() => store.readAhead?.stats);
    metrics.setOldestPendingCaseSource(cases.oldestPendingAgeSeconds);
    const engine = new Engine({
      // With engineers' spaces configured, the guide's N9 offers a person beside a case (issue 22).
      flow: followups.withOffers(handoffs.configured ? offeringAPerson(provisioningContactFlow) : provisioningContactFlow),
      agents,
      onTurn: (info) => metrics.observeTurn(info),
      // "triage" / "тріаж" starts the agent intake for people in AGENT_IDS (issue 7).
      flows: [...[agentTriageFlow, cases.flow, caseClosureFlow].map(followups.withOffers), ...followups.flows, handoffFlow],
      proactive,
      actors: (scope) => ({ ...cases.actors(scope), ...followups.actors(scope), ...handoffs.actors(scope) }),
      // A live chat with a support engineer takes every message before anything else reads it.
      interceptors: [handoffs.interceptor],
      endingChoices: followups.endingChoices,
      // A message cancels the conversation's pending follow-ups, in its own commit.
      observers: [followups.observer],
      // "status of PCE-…" first, then "stop reminders" (before "add to my case: …" takes any plain message).
      intents: [cases.intent, followups.intent, cases.addIntent],
      ...options.engine,
      store,
      translator,
      logger,
    });
    const origin = new RequestOrigin({ trustLoopback: config.TRUST_LOOPBACK, trustedProxies: config.TRUSTED_PROXIES });
    const workers: ChannelContext['workers'] = [];
    // GET /readyz: 503 while the store refuses writes.
    const writeProbe = new WriteProbe({ db: () => store.db, logger });
    // GET /report (the funnel report page) lives beside /metrics, behind the same check.
    const reportPages = createReportPages({ db: () => store.db, translator, idleMinutes: config.FUNNEL_IDLE_MINUTES, clock: options.engine?.clock });
    const exposure = metricsExposure(config, metrics, logger, origin, reportPages);
    const http = buildServer({
      logger,
      maxBodyBytes: config.MAX_BODY_BYTES,
      connections: {
        headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
        requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
        maxConnections: config.HTTP_MAX_CONNECTIONS,
      },
      health: () => ({ storage: store.kind, ...options.health?.() }),
      ready: () => writeProbe.check(),
      plugins: [
        ...channelPlugins({ config, engine, translator, logger, store, notifiers, proactiveTurns, origin, workers, handoffs }),
        // POST /api/cases/events: signed status updates from the case webhook's support system.
        ...(cases.eventsEndpoint ? [cases.eventsEndpoint] : []),
        ...(exposure.plugin ? [exposure.plugin] : []),
        ...(options.plugins ?? []),
      ],
    });
    let metricsListener: MetricsListener | undefined;
    const retention = new RetentionJob({
      store,
      uploads: new UploadStore(config.WEBCHAT_UPLOAD_DIR, config.WEBCHAT_MAX_UPLOAD_BYTES),
      retentionDays: config.RETENTION_DAYS,
      intervalMs: config.RETENTION_INTERVAL_MINUTES * 60_000,
      logger,
      ...options.retention,
    });

    return {
      config,
      logger,
      store,
      engine,
      translator,
      metrics,
      cases,
      retention,
      followups,
      handoffs,
      http,
      async listen(port = config.PORT, host = config.HOST) {
        const bound = await http.listen(port, host);
        if (exposure.startListener) metricsListener = await exposure.startListener();
        // The case delivery worker: resumes pending deliveries of earlier runs at once.
        cases.outbox?.start();
        // Status updates stored but not yet told (also those an earlier run left).
        cases.updateNotices?.start();
        // Updates asked of the backend (Smart Bonding, ServiceNow), and additions to open cases.
        cases.updatesPoller?.start();
        cases.additionsOutbox?.start();
        // Follow-ups that are due (also those an earlier run left).
        followups.worker.start();
        // Hand-off requests to post, messages to relay, waits that ran out (also those an earlier run left).
        handoffs.worker.start();
        // Kept replies: sends at once what an earlier run committed and did not send.
        for (const worker of workers) worker.start();
        retention.start();
        return bound;
      },
      async close(timeoutMs = config.SHUTDOWN_TIMEOUT_SECONDS * 1000) {
        const inTime = await http.close(timeoutMs);
        await metricsListener?.close();
        await cases.outbox?.stop();
        await cases.updateNotices?.stop();
        await cases.updatesPoller?.stop();
        await cases.additionsOutbox?.stop();
        await followups.worker.stop();
        await handoffs.worker.stop();
        for (const worker of workers) await worker.stop();
        await ticketNotice.drain();
        await retention.stop();
        await store.close();
        return inTime;
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
