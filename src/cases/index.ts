/**
 * Support cases, assembled: the intake flow to register with the engine, the per-turn actors it
 * needs, the status intent, and the delivery worker for the configured backend (none for `local`).
 * `src/index.ts` starts the worker and stops it on shutdown.
 */
import { supportCaseFlow } from '../../dialogs/support-case/index';
import type { Config } from '../config';
import type { TurnScope } from '../engine/engine';
import type { Translator } from '../i18n';
import type { Logger } from '../log';
import { CaseRepository } from './repository';
import type { Store } from '../storage/store';
import { createCaseBackend, type CaseBackend, type CaseBackendConfig } from './backends/index';
import { caseActors } from './open-case';
import { reopenActor } from './reopen';
import { CaseOutbox, type CaseOutboxOptions } from './outbox';
import { createCaseStatusIntent } from './status-intent';
import { Agents } from '../security/identity';
import type { ChannelNotifier } from '../channels/notify';
import type { ProactiveTurns } from '../channels/proactive-turns';
import { CaseUpdatesRepository } from './updates-repository';
import { CaseUpdateNotices } from './update-notices';
import { caseEventsEndpoint } from './updates-endpoint';
import { CaseUpdatesPoller } from './updates-poller';
import { CaseAdditionsRepository } from './additions-repository';
import { CaseAdditionsOutbox } from './additions-outbox';
import { createCaseAddIntent } from './add-intent';

export type CasesConfig = CaseBackendConfig &
  Pick<
    Config,
    | 'AGENT_IDS'
    | 'CASE_DELIVERY_MAX_ATTEMPTS'
    | 'CASE_DELIVERY_RETRY_SECONDS'
    | 'CASE_DELIVERY_MAX_DELAY_SECONDS'
    | 'CASE_DELIVERY_POLL_SECONDS'
    | 'CASE_DELIVERY_LEASE_SECONDS'
    | 'SMARTBONDING_POLL_SECONDS'
    | 'SERVICENOW_POLL_SECONDS'
  >;

export interface CasesDeps {
  config: CasesConfig;
  /** The store: the repository registers the cases' turn writer with it. */
  store: Store;
  translator: Translator;
  logger: Logger;
  /** Who is an agent; default: AGENT_IDS. The app passes the one instance the engine uses too. */
  agents?: Agents;
  /** Overrides the backend CASE_BACKEND names (tests). */
  backend?: CaseBackend;
  /** Metrics hook: case deliveries by result. */
  onAttempt?: CaseOutboxOptions['onAttempt'];
  onDelivered?: CaseOutboxOptions['onDelivered'];
  onRejected?: CaseOutboxOptions['onRejected'];
  /** Clock, jitter and worker id of the case outbox, also used by the additions outbox and the updates poller (tests). */
  outbox?: Partial<Pick<CaseOutboxOptions, 'clock' | 'random' | 'workerId'>>;
  /** Proactive messages: where status updates from the support system are told (none: not told). */
  notifier?: ChannelNotifier;
  /** Turns the bot starts on its own: a resolved or closed case asks whether it is solved (issue 21). */
  turns?: ProactiveTurns;
}

export function createCases(deps: CasesDeps) {
  const { config, store, translator, logger } = deps;
  const agents = deps.agents ?? new Agents(config.AGENT_IDS);
  const repository = new CaseRepository(store);
  const backend = deps.backend ?? createCaseBackend(config, translator);
  const updates = new CaseUpdatesRepository(store);
  const add = createCaseAddIntent({ repository, updates, agents, backend });
  const outbox = backend
    ? new CaseOutbox({
        repository,
        backend,
        translator,
        logger,
        maxAttempts: config.CASE_DELIVERY_MAX_ATTEMPTS,
        retryBaseMs: config.CASE_DELIVERY_RETRY_SECONDS * 1000,
        retryMaxMs: config.CASE_DELIVERY_MAX_DELAY_SECONDS * 1000,
        pollMs: config.CASE_DELIVERY_POLL_SECONDS * 1000,
        leaseMs: config.CASE_DELIVERY_LEASE_SECONDS * 1000,
        onAttempt: deps.onAttempt,
        // A delivered case may take additions from now on (the add intent's cache forgets "no case").
        onDelivered: (record, externalId) => {
          add.forget();
          deps.onDelivered?.(record, externalId);
        },
        onRejected: deps.onRejected,
        ...deps.outbox,
      })
    : undefined;
  // Status updates from the support system (issue 21): stored by POST /api/cases/events (webhook
  // backend only), told to the person by a leased worker.
  const updateNotices = deps.notifier
    ? new CaseUpdateNotices({
        updates,
        cases: repository,
        notifier: deps.notifier,
        turns: deps.turns,
        store,
        translator,
        logger,
        pollMs: config.CASE_DELIVERY_POLL_SECONDS * 1000,
        leaseMs: config.CASE_DELIVERY_LEASE_SECONDS * 1000,
        retryMs: config.CASE_DELIVERY_RETRY_SECONDS * 1000,
        clock: deps.outbox?.clock,
      })
    : undefined;
  // Adding to an open case from the chat (issue 21): taken by the intent, pushed by a leased worker.
  const additions = new CaseAdditionsRepository(store);
  const additionsOutbox = backend?.addToCase
    ? new CaseAdditionsOutbox({
        additions,
        cases: repository,
        backend,
        logger,
        pollMs: config.CASE_DELIVERY_POLL_SECONDS * 1000,
        leaseMs: config.CASE_DELIVERY_LEASE_SECONDS * 1000,
        retryBaseMs: config.CASE_DELIVERY_RETRY_SECONDS * 1000,
        retryMaxMs: config.CASE_DELIVERY_MAX_DELAY_SECONDS * 1000,
        clock: deps.outbox?.clock,
        random: deps.outbox?.random,
      })
    : undefined;
  /** A new update may put a conversation's case in "waiting for you": its next message is an addition. */
  const onStored = () => {
    add.forget();
    updateNotices?.kick();
  };
  const eventsEndpoint =
    config.CASE_BACKEND === 'webhook' && config.CASE_WEBHOOK_SECRET
      ? caseEventsEndpoint({ secret: config.CASE_WEBHOOK_SECRET, updates, logger, clock: deps.outbox?.clock, onStored })
      : undefined;
  // Backends that are asked for updates: Smart Bonding's pull queue, ServiceNow's records.
  const pollSeconds = config.CASE_BACKEND === 'smartbonding' ? config.SMARTBONDING_POLL_SECONDS : config.SERVICENOW_POLL_SECONDS;
  const updatesPoller = backend?.pullUpdates
    ? new CaseUpdatesPoller({ backend, updates, logger, pollMs: pollSeconds * 1000, clock: deps.outbox?.clock, onStored })
    : undefined;
  const actors = caseActors({
    repository,
    store,
    translator,
    logger,
    backend: backend?.name ?? 'local',
    agents,
  });
  return {
    repository,
    outbox,
    updates,
    /** Tells stored status updates; started and stopped with the app. */
    updateNotices,
    /** `POST /api/cases/events`, only with CASE_BACKEND=webhook. */
    eventsEndpoint,
    /** Asks the backend for updates (Smart Bonding, ServiceNow); started and stopped with the app. */
    updatesPoller,
    additions,
    /** Pushes additions to the backend (backends with `addToCase`); started and stopped with the app. */
    additionsOutbox,
    /** "add to my case: …" (after `intent` in EngineOptions.intents, so "status of PCE-…" stays a question). */
    addIntent: add.intent,
    flow: supportCaseFlow,
    /** For EngineOptions.actors (merge with other areas' actors if there are any). */
    actors: (scope: TurnScope) => ({ ...actors(scope), requestReopen: reopenActor({ repository, backend, agents }, scope) }),
    intent: createCaseStatusIntent({ repository, agents, conversations: store, updates }),
    /** A dry run against the backend (nothing written): configuration problems, none: []. */
    check: async (): Promise<string[]> => (backend?.check ? backend.check() : []),
    /** For the pending-outbox gauge. */
    pendingCount: () => repository.countByStatus('pending'),
    /** For the oldest-pending-case gauge: seconds since the oldest case still waiting was opened (0 if none). */
    oldestPendingAgeSeconds: async () => {
      const oldest = await repository.oldestPendingCreatedAt();
      const now = (deps.outbox?.clock ?? (() => new Date()))();
      return oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0;
    },
  };
}

export type Cases = ReturnType<typeof createCases>;
export { CaseOutbox, retryDelayMs } from './outbox';
export { buildCaseSummary } from './summary';
export { caseRecord, formatReference, type CaseRecord } from './schema';
export { CaseRepository, type UndeliveredCase } from './repository';
export { createCaseStatusIntent, parseStatusQuestion } from './status-intent';
export { createCaseAddIntent, parseAddition } from './add-intent';
export { CaseUpdatesPoller } from './updates-poller';
export { CaseAdditionsOutbox } from './additions-outbox';
export { CaseAdditionsRepository } from './additions-repository';
export { CaseUpdatesRepository, type CaseUpdate } from './updates-repository';
export { CASE_EVENTS_PATH } from './updates-endpoint';
