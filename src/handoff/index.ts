/**
 * Talk to a person (issue 22), assembled: the repository and its outbox, the expert spaces the
 * channels add (src/channels/webex/handoff-space.ts, src/channels/botframework/handoff-space.ts),
 * the person's side (./interceptor.ts), the engineers' side (./desk.ts), the flow's runtime actors,
 * the flows the bot starts on its own, and the worker. Nothing configured, no space is ready and
 * the feature stays out of sight.
 */
import { fromPromise, type AnyActorLogic } from 'xstate';
import type { FlowInput } from '../../dialogs/flow';
import { handoffEventData, type Availability as FlowAvailability, HANDOFF_ENDED_EVENT, HANDOFF_EXPIRED_EVENT, HANDOFF_FLOW_ID, HANDOFF_TAKEN_EVENT, type Requested } from '../../dialogs/handoff/steps';
import type { CaseIntakeInput } from '../../dialogs/support-case/case-draft';
import type { ChannelNotifier } from '../channels/notify';
import type { ProactiveTurns } from '../channels/proactive-turns';
import type { Config } from '../config';
import type { Interceptor, TurnScope } from '../engine/engine';
import type { ProactiveFlow, ProactiveFlows } from '../engine/proactive';
import type { Translator } from '../i18n';
import type { Logger } from '../log';
import type { Store } from '../storage/store';
import { HandoffAvailability } from './availability';
import { HandoffDesk, type HandoffAgents } from './desk';
import { parseOpeningHours } from './hours';
import { createHandoffInterceptor, requestIn } from './interceptor';
import { HandoffJobsRepository } from './jobs-repository';
import { HandoffRepository } from './repository';
import { ExpertSpaces } from './spaces';
import { HandoffWorker } from './worker';

export { HandoffDesk, type Expert, type HandoffAgents } from './desk';
export { ExpertSpaces, type ExpertSpace, type CardState } from './spaces';
export type { HandoffRecord } from './repository';

/** What operators count (src/metrics/handoffs.ts). */
export interface HandoffEvents {
  recordHandoff(event: 'requested' | 'taken' | 'abandoned' | 'ended'): void;
  observeHandoffWait(seconds: number): void;
}

export interface HandoffsDeps {
  config: Pick<Config, 'HANDOFF_WEBEX_ROOM_ID' | 'HANDOFF_HOURS' | 'HANDOFF_WAIT_MINUTES' | 'HANDOFF_POLL_SECONDS' | 'HANDOFF_LEASE_SECONDS' | 'MicrosoftAppId' | 'AGENT_IDS'>;
  store: Store;
  translator: Translator;
  logger: Logger;
  agents: HandoffAgents;
  notifier: ChannelNotifier;
  turns: ProactiveTurns;
  clock?: () => Date;
  events?: HandoffEvents;
}

export interface Handoffs {
  /**
   * An engineers' space is configured, or may be chosen in Teams (an app id, so AAD ids are proven, and
   * an AAD id among AGENT_IDS): the guide's N9 offers a person. Whether one is there now (a channel
   * chosen, opening hours) is `availability`; without one, N9 goes to the case intake as before.
   */
  readonly configured: boolean;
  readonly repository: HandoffRepository;
  readonly jobs: HandoffJobsRepository;
  /** Channels add theirs (a Webex space, a Teams channel). */
  readonly spaces: ExpertSpaces;
  readonly desk: HandoffDesk;
  readonly availability: HandoffAvailability;
  readonly interceptor: Interceptor;
  readonly worker: HandoffWorker;
  /** The flow's runtime actors (`handoffAvailability`, `requestHandoff`), per turn. */
  actors(scope: TurnScope): Record<string, AnyActorLogic>;
  /** Registers the flows the bot starts on its own: taken, ended, expired. */
  registerFlows(flows: ProactiveFlows): void;
}

/** The hand-off flow for an event: its input is the event's data, checked, in the conversation's terms now. */
const handoffFlowFor: ProactiveFlow = {
  flow: HANDOFF_FLOW_ID,
  input(data, at) {
    const parsed = handoffEventData.safeParse(data);
    return parsed.success ? { flowInput: at, ...parsed.data } : undefined;
  },
};

/** Whether an agent can choose a Teams channel: only a validated token proves an AAD id, and AGENT_IDS must list one (entries without `@`). */
function teamsMayChoose(config: Pick<Config, 'MicrosoftAppId' | 'AGENT_IDS'>): boolean {
  return Boolean(config.MicrosoftAppId) && [...config.AGENT_IDS].some((id) => !id.includes('@'));
}

export function createHandoffs(deps: HandoffsDeps): Handoffs {
  const { config, store, translator, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const repository = new HandoffRepository(store);
  const jobs = new HandoffJobsRepository(store);
  const spaces = new ExpertSpaces();
  const hours = config.HANDOFF_HOURS ? parseOpeningHours(config.HANDOFF_HOURS) : undefined;
  const availability = new HandoffAvailability({ spaces, hours, clock });
  const worker = new HandoffWorker({
    repository,
    jobs,
    spaces,
    turns: deps.turns,
    notifier: deps.notifier,
    store,
    translator,
    logger: logger.child({ feature: 'handoffs' }),
    pollMs: config.HANDOFF_POLL_SECONDS * 1000,
    leaseMs: config.HANDOFF_LEASE_SECONDS * 1000,
    clock,
    onExpired: () => deps.events?.recordHandoff('abandoned'),
  });
  const waitMinutes = config.HANDOFF_WAIT_MINUTES;
  const desk = new HandoffDesk({
    repository,
    agents: deps.agents,
    translator,
    clock,
    onChange: () => worker.kick(),
    onTaken: (seconds) => {
      deps.events?.recordHandoff('taken');
      deps.events?.observeHandoffWait(seconds);
    },
    onEnded: () => deps.events?.recordHandoff('ended'),
  });
  const intercept = createHandoffInterceptor({ repository, availability, translator, waitMinutes });
  return {
    configured: Boolean(config.HANDOFF_WEBEX_ROOM_ID) || teamsMayChoose(config),
    repository,
    jobs,
    spaces,
    desk,
    availability,
    worker,
    // A request kept in a turn is posted once the turn is stored: the worker is asked to look soon.
    interceptor: async (at) => {
      const taken = await intercept(at);
      const changes = at.scope.commit.handoff;
      if (changes) {
        if (changes.create) deps.events?.recordHandoff('requested');
        if (changes.end) deps.events?.recordHandoff('ended');
        if (changes.cancel) deps.events?.recordHandoff('abandoned');
        setImmediate(() => worker.kick());
      }
      return taken;
    },
    actors: (scope) => ({
      handoffAvailability: fromPromise<FlowAvailability>(async () => {
        const now = await availability.now();
        return now.state === 'closed' ? { open: false, closed: true, ...(now.at ? { back: now.at } : {}) } : { open: now.state === 'open' };
      }),
      requestHandoff: fromPromise<Requested, CaseIntakeInput & { flowInput: FlowInput }>(async ({ input }) => {
        const created = requestIn(scope, input, { waitMinutes });
        deps.events?.recordHandoff('requested');
        setImmediate(() => worker.kick());
        return { id: created.id, waitMinutes };
      }),
    }),
    registerFlows(flows) {
      for (const event of [HANDOFF_TAKEN_EVENT, HANDOFF_ENDED_EVENT, HANDOFF_EXPIRED_EVENT]) flows.register(event, handoffFlowFor);
    },
  };
}
