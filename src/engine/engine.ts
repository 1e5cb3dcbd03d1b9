/**
 * Runs one turn of one conversation: the per-conversation lock, a turn that lost a race to another
 * instance run again, duplicates told apart from failures, and the turn counted for operators. The
 * turn itself is ./turn.ts. Channel-neutral: channels give an Inbound and render the TurnResult.
 */
import type { AnyActorLogic } from 'xstate';
import type { FlowDefinition } from '../../dialogs/flow';
import type { Translator } from '../i18n';
import type { Logger } from '../log';
import { Recogniser } from '../nlu/recogniser';
import type { Agents } from '../security/identity';
import { ConcurrentTurnError, DuplicateActivityError } from '../storage/errors';
import type { Store } from '../storage/store';
import { FlowActors } from './flow-actors';
import { conversationKey } from './identity';
import { ProactiveFlows } from './proactive';
import { MessageReader, type Interceptor } from './read-message';
import type { EndingChoices } from './ending-choices';
import type { Intent, TurnObserver, TurnScope } from './scope';
import { withCleanText } from './text';
import { runTurn, type TurnDeps } from './turn';
import type { Inbound, TurnOptions, TurnResult } from './types';

export type { Intent, TurnObserver, TurnScope } from './scope';
export type { Interceptor } from './read-message';

/**
 * A turn that lost the race to another instance (its commit found a newer turn stored) runs again on
 * what that instance stored. Each lost race means another turn of the conversation was committed, so
 * this bounds how many messages of one conversation may race on other instances at once; beyond it
 * the turn fails like any storage error.
 */
const MAX_TURN_ATTEMPTS = 10;

export interface EngineOptions {
  store: Store;
  /** The entry flow: every conversation starts here. */
  flow: FlowDefinition;
  /** Flows the entry flow can hand over to (`FlowOutput.next.flow`). */
  flows?: FlowDefinition[];
  translator: Translator;
  logger: Logger;
  clock?: () => Date;
  /** Implementations of the actors flows declare in setup() (e.g. openCase), built per turn. */
  actors?: (scope: TurnScope) => Record<string, AnyActorLogic>;
  intents?: Intent[];
  /** Read a message before anything else (./read-message.ts `Interceptor`): a live hand-off to a person. */
  interceptors?: Interceptor[];
  /** Who may run agent triage (src/security/identity.ts); none when absent. */
  agents?: Pick<Agents, 'isAgent'>;
  /** The flow "triage" starts for an agent (default `agent-triage`, when it is among `flows`). */
  triageFlow?: string;
  /** Flows the bot starts on its own, by event name (./proactive.ts); none by default. */
  proactive?: ProactiveFlows;
  /** Choices endings offer beyond the flows' own, and the flow each starts (./ending-choices.ts). */
  endingChoices?: EndingChoices;
  /** See every turn before it commits (./scope.ts `TurnObserver`). */
  observers?: TurnObserver[];
  /** Called after every turn (metrics). */
  onTurn?: (info: { channel: string; outcome?: string; ms: number; duplicate: boolean }) => void;
}

export class Engine {
  private readonly deps: TurnDeps;
  private readonly actors: FlowActors;

  constructor(private readonly opts: EngineOptions) {
    const flows = new Map([opts.flow, ...(opts.flows ?? [])].map((f) => [f.id, f]));
    this.actors = new FlowActors({ flows, logger: opts.logger, actors: opts.actors });
    this.deps = {
      store: opts.store,
      translator: opts.translator,
      clock: opts.clock ?? (() => new Date()),
      actors: this.actors,
      // Free-text answers: exact paths, then each step's trained model (src/nlu/recogniser.ts).
      reader: new MessageReader({ translator: opts.translator, recogniser: Recogniser.shared(opts.translator.resources), intents: opts.intents ?? [], interceptors: opts.interceptors }),
      flows,
      entry: opts.flow,
      triageFlow: flows.get(opts.triageFlow ?? 'agent-triage'),
      isAgent: (user) => opts.agents?.isAgent(user) ?? false,
      proactive: opts.proactive ?? new ProactiveFlows(),
      endingChoices: opts.endingChoices,
      observers: opts.observers ?? [],
    };
  }

  static conversationKey = conversationKey;

  async handle(received: Inbound, options: TurnOptions = {}): Promise<TurnResult> {
    const started = performance.now();
    const inbound = withCleanText(received);
    const key = conversationKey(inbound);
    const count = (outcome: string | undefined, duplicate: boolean) =>
      this.opts.onTurn?.({ channel: inbound.channel, outcome, ms: performance.now() - started, duplicate });
    let result: TurnResult;
    try {
      result = await this.opts.store.runExclusive(key, async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await runTurn(this.deps, key, inbound, options);
          } catch (err) {
            if (!(err instanceof ConcurrentTurnError) || attempt >= MAX_TURN_ATTEMPTS) throw err;
            this.opts.logger.info({ conversation: key, attempt }, 'another instance committed a turn of this conversation first; running the turn again');
          }
        }
      });
    } catch (err) {
      if (err instanceof DuplicateActivityError) {
        // Another instance committed the same activity first: handled once, nothing more to say.
        count(undefined, true);
        return { duplicate: true, locale: 'en', conversationKey: key, messages: [], step: '' };
      }
      // A failed turn (storage down, a bug) still counts for operators, as outcome `error`.
      count('error', false);
      throw err;
    }
    count(result.outcome, result.duplicate);
    return result;
  }
}
