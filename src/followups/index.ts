/**
 * Follow-ups and "did this help?", assembled (issue 23): the two flows to register with the engine,
 * the wrapper that adds the shared offers to every flow's endings, what a press of one of them
 * starts, the per-turn actors, the "stop reminders" / "status" intent, the observer that cancels a
 * pending follow-up when the person writes first, and the worker that fires due ones.
 */
import { afterEndingFlow } from '../../dialogs/followup/after-ending-machine';
import { FOLLOWUP_DUE_EVENT } from '../../dialogs/followup/contract';
import { followupFlow } from '../../dialogs/followup/machine';
import { afterEndingStart, withEndingOffers, type EndingOffersConfig } from '../../dialogs/followup/offers';
import type { FlowDefinition } from '../../dialogs/flow';
import type { ProactiveTurns } from '../channels/proactive-turns';
import type { Config } from '../config';
import type { EndingChoices } from '../engine/ending-choices';
import type { ProactiveFlows } from '../engine/proactive';
import type { Intent, TurnObserver, TurnScope } from '../engine/scope';
import type { Logger } from '../log';
import type { FollowupMetrics } from '../metrics/followups';
import type { Store } from '../storage/store';
import { followupActors } from './actors';
import { createFollowupIntent } from './intent';
import { cancelOnMessage } from './observer';
import { FollowupsRepository } from './repository';
import { SatisfactionRepository } from './satisfaction-repository';
import { followupDueFlow, FollowupWorker, type FollowupWorkerOptions } from './worker';

/** Channels that cannot reach a person on their own: no follow-up is offered there. */
const UNREACHABLE_CHANNELS: ReadonlySet<string> = new Set(['terminal']);

export interface FollowupsDeps {
  config: Pick<Config, 'FOLLOWUPS_ENABLED' | 'FOLLOWUP_DELAY_HOURS' | 'FOLLOWUP_POLL_SECONDS' | 'FOLLOWUP_LEASE_SECONDS'>;
  store: Store;
  logger: Logger;
  /** Turns the bot starts on its own, by channel: how a due follow-up reaches the person. */
  turns: ProactiveTurns;
  metrics?: FollowupMetrics;
  /** Clock and worker id of the worker (tests). */
  worker?: Partial<Pick<FollowupWorkerOptions, 'clock' | 'workerId' | 'batchSize'>>;
}

export interface Followups {
  repository: FollowupsRepository;
  satisfaction: SatisfactionRepository;
  /** The flows to add to the engine's (the after-ending flow and the follow-up itself, with the offers). */
  flows: FlowDefinition[];
  /** Adds "did this help?" and the follow-up offer to a flow's endings. */
  withOffers<F extends FlowDefinition>(flow: F): F;
  endingChoices: EndingChoices;
  actors: (scope: TurnScope) => ReturnType<ReturnType<typeof followupActors>>;
  intent: Intent;
  observer: TurnObserver;
  worker: FollowupWorker;
  /** Registers the follow-up flow for its event. */
  registerWith(proactive: ProactiveFlows): ProactiveFlows;
}

export function createFollowups(deps: FollowupsDeps): Followups {
  const { config, store, logger, metrics } = deps;
  const repository = new FollowupsRepository(store);
  const satisfaction = new SatisfactionRepository(store);
  const offers: EndingOffersConfig = config.FOLLOWUPS_ENABLED
    ? { followup: { hours: config.FOLLOWUP_DELAY_HOURS, reachable: (channel) => !UNREACHABLE_CHANNELS.has(channel) } }
    : {};
  const withOffers = <F extends FlowDefinition>(flow: F): F => withEndingOffers(flow, offers);
  const actors = followupActors({ onFollowup: (e) => metrics?.recordFollowup(e), onRating: (r, c) => metrics?.recordRating(r, c) });
  return {
    repository,
    satisfaction,
    flows: [afterEndingFlow, withOffers(followupFlow)],
    withOffers,
    endingChoices: (choice, ended, at) => afterEndingStart(choice, ended, at, offers),
    actors,
    intent: createFollowupIntent({ repository, onStop: () => metrics?.recordFollowup('cancelled') }),
    observer: cancelOnMessage(() => metrics?.recordFollowup('cancelled')),
    worker: new FollowupWorker({
      repository,
      turns: deps.turns,
      logger,
      pollMs: config.FOLLOWUP_POLL_SECONDS * 1000,
      leaseMs: config.FOLLOWUP_LEASE_SECONDS * 1000,
      onSettled: (result) => metrics?.recordFollowup(result),
      ...deps.worker,
    }),
    registerWith: (proactive) => proactive.register(FOLLOWUP_DUE_EVENT, followupDueFlow),
  };
}
