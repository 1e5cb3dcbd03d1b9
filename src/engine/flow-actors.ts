/**
 * The flow actors of turns: starting and restoring them with the runtime's actors provided, the turn
 * they belong to, and the live actors kept between turns.
 */
import { LRUCache } from 'lru-cache';
import { createActor, waitFor, type AnyActorLogic, type AnyActorRef, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { z } from 'zod';
import type { FlowDefinition, Line, StepView } from '../../dialogs/flow';
import type { Logger } from '../log';
import type { ConversationState } from '../storage/store';
import type { TurnScope } from './scope';

/** How long a turn waits for a flow's own actor (opening a case) before answering anyway. */
const BUSY_WAIT_MS = 5_000;
/**
 * Live flow actors kept between turns, least recently used dropped first (README "Performance"): a
 * turn whose conversation is stored at exactly the turn an actor ended goes on with that actor
 * instead of restoring the stored snapshot into a new one.
 */
const LIVE_ACTORS_MAX = 500;

const persistedSnapshot = z.looseObject({
  status: z.enum(['active', 'done']),
  value: z.union([z.string(), z.record(z.string(), z.unknown())]),
  context: z.record(z.string(), z.unknown()),
});

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && Object.getOwnPropertySymbols(v).length === 0;
};

/**
 * Whether `stored` surely passes `persistedSnapshot`, without zod walking every key of the context
 * (a visible share of a restore, issue 19). Stricter than the schema: what it refuses goes to zod.
 */
function surelyPersisted(stored: unknown): boolean {
  if (!isPlainObject(stored)) return false;
  const { status, value, context } = stored;
  return (status === 'active' || status === 'done') && (typeof value === 'string' || isPlainObject(value)) && isPlainObject(context);
}

/**
 * The actor's persisted snapshot as it stands now, persisted only when asked for: most turns never
 * use where they resumed from, and persisting walks the whole context (issue 19). Snapshots do not
 * change, so persisting later gives the same, except for child actors (persisted as they are then):
 * with any, it is persisted at once.
 */
export function persistLater(actor: AnyActorRef): () => unknown {
  const snapshot = actor.getSnapshot() as AnyMachineSnapshot;
  if (Object.keys(snapshot.children).length > 0) {
    const now = actor.getPersistedSnapshot();
    return () => now;
  }
  const { logic } = actor as unknown as { logic: AnyActorLogic };
  let persisted: unknown;
  return () => (persisted ??= logic.getPersistedSnapshot(snapshot, undefined));
}

export interface Running {
  flow: FlowDefinition;
  actor: AnyActorRef;
}

/** An actor left at the end of a committed turn: valid while the conversation is stored as `stored`. */
export interface LiveActor extends Running {
  /**
   * The conversation as that turn stored it: while the store is still at its turn, the next turn
   * uses it instead of reading the row's snapshot and parents again (the store's turn is the check).
   */
  stored: ConversationState;
  /** The snapshot the turn ended at and its view: views are pure, so the next turn need not build it again. */
  seen?: { snapshot: AnyMachineSnapshot; view: StepView };
}

/** The turn an actor belongs to: its scope, and the actor implementations built for it (lazily). */
interface TurnActors {
  scope?: TurnScope;
  built?: Record<string, AnyActorLogic>;
}

export interface FlowActorsOptions {
  flows: Map<string, FlowDefinition>;
  logger: Logger;
  /** Implementations of the actors flows declare in setup() (e.g. openCase), built per turn. */
  actors?: (scope: TurnScope) => Record<string, AnyActorLogic>;
}

export class FlowActors {
  /** Each flow's machine with its actors provided once (building a machine is costly; see machineFor). */
  private readonly provided = new Map<FlowDefinition, AnyStateMachine>();
  /**
   * The turn each actor system (a flow actor and the actors it runs) belongs to now. Not
   * AsyncLocalStorage: that turns on promise hooks for every promise of the process, a few per cent
   * of a turn's CPU (issue 19); every actor callback is given its system, so the map finds the turn.
   */
  private readonly turns = new WeakMap<object, TurnActors>();
  /** The logic last built per actor name, for the one call xstate makes without an actor scope. */
  private readonly lastLogic = new Map<string, AnyActorLogic>();
  /** By conversation key; a turn takes its entry out while it runs. Dropped or replaced ones stop. */
  private readonly live = new LRUCache<string, LiveActor>({
    max: LIVE_ACTORS_MAX,
    dispose: (live, _key, reason) => {
      if (reason !== 'delete') live.actor.stop();
    },
  });

  /**
   * The turn of the actor being created: xstate starts the actors of the initial (or restored) state
   * while constructing the actor, before its system can be told which turn it belongs to.
   */
  private creating?: TurnScope;

  constructor(private readonly opts: FlowActorsOptions) {}

  /** `createActor`, with the actors it starts at once working for the turn of `scope`. */
  private create(flow: FlowDefinition, scope: TurnScope, options: { input?: unknown; snapshot?: never }): AnyActorRef {
    this.creating = scope;
    try {
      return this.observed(createActor(this.machineFor(flow, scope), options), scope.conversationKey);
    } finally {
      this.creating = undefined;
    }
  }

  start(flow: FlowDefinition, input: unknown, scope: TurnScope): Running {
    const actor = this.create(flow, scope, { input });
    this.belongsTo(actor, scope);
    actor.start();
    return { flow, actor };
  }

  /** From now on the actor (and the actors it runs) works for the turn of `scope`. */
  private belongsTo(actor: AnyActorRef, scope: TurnScope): void {
    this.turns.set(actor.system, { scope });
  }

  /** Restores a stored flow snapshot, or returns undefined (with an apology line) when it cannot be. */
  restore(flowId: string, flowVersion: number, stored: unknown, scope: TurnScope, prefix: Line[]): (Running & Pick<LiveActor, 'seen'>) | undefined {
    const { logger } = this.opts;
    const key = scope.conversationKey;
    const flow = this.opts.flows.get(flowId);
    if (!flow || flow.version !== flowVersion) {
      prefix.push({ key: 'common:restartedAfterUpdate' });
      return undefined;
    }
    const parsed = surelyPersisted(stored) ? { success: true as const } : persistedSnapshot.safeParse(stored);
    if (parsed.success) {
      try {
        const actor = this.create(flow, scope, { snapshot: stored as never });
        this.belongsTo(actor, scope);
        actor.start();
        const restored = actor.getSnapshot() as AnyMachineSnapshot;
        if (restored.status === 'error') throw restored.error;
        const view = flow.view(restored as never); // proves the stored state still exists in this flow
        return { flow, actor, seen: { snapshot: restored, view } };
      } catch (err) {
        logger.warn({ err, conversation: key }, 'stored snapshot could not be restored');
      }
    } else {
      logger.warn({ conversation: key, issues: parsed.error.issues.length }, 'stored snapshot failed validation');
    }
    prefix.push({ key: 'common:restartedAfterError' });
    return undefined;
  }

  /** The conversation as stored with its live actor, if it has one (nothing is taken). */
  keptRow(key: string): ConversationState | undefined {
    return this.live.peek(key)?.stored;
  }

  /** Takes the conversation's live actor out for the turn that runs now (it is kept again by `keepLive`). */
  take(key: string): LiveActor | undefined {
    const live = this.live.get(key);
    if (live) this.live.delete(key);
    return live;
  }

  /** A taken live actor, when the store holds exactly its turn; it joins the turn of `scope`. Otherwise it stops. */
  reuse(live: LiveActor | undefined, record: ConversationState | undefined, scope: TurnScope): (Running & Pick<LiveActor, 'seen'>) | undefined {
    if (!live) return undefined;
    if (record && live.stored.turn === record.turn && live.flow.id === record.flowId && live.flow.version === record.flowVersion) {
      this.belongsTo(live.actor, scope);
      return { flow: live.flow, actor: live.actor, seen: live.seen };
    }
    // Another instance, the retention job or a failed turn moved the conversation on: restore it.
    live.actor.stop();
    return undefined;
  }

  keepLive(key: string, live: LiveActor): void {
    // The same actor kept again must not be stopped as the entry it replaces.
    if (this.live.peek(key)?.actor === live.actor) this.live.delete(key);
    this.live.set(key, live);
  }

  /** Waits while the flow runs its own actors (states tagged `busy`), bounded by BUSY_WAIT_MS. */
  async settle(actor: AnyActorRef): Promise<AnyMachineSnapshot> {
    const snapshot = actor.getSnapshot() as AnyMachineSnapshot;
    if (!snapshot.hasTag('busy')) return snapshot;
    return (await waitFor(actor, (s) => !(s as AnyMachineSnapshot).hasTag('busy'), { timeout: BUSY_WAIT_MS }).catch(
      () => actor.getSnapshot(),
    )) as AnyMachineSnapshot;
  }

  /**
   * The flow's machine with the runtime's actors. `provide()` builds a whole new machine (every state
   * node), which cost about a tenth of a turn's CPU when done per turn (bench/README "Performance"),
   * so each flow is provided once, with actor logic that forwards to the implementations built for
   * the turn it runs in (`opts.actors(scope)`, found by the actor's system; promise callbacks of an
   * actor started in a turn stay in that turn).
   */
  private machineFor(flow: FlowDefinition, scope: TurnScope): AnyStateMachine {
    const build = this.opts.actors;
    if (!build) return flow.machine;
    let machine = this.provided.get(flow);
    if (!machine) {
      const names = new Set([...Object.keys(flow.machine.implementations.actors), ...Object.keys(build(scope))]);
      const declared = flow.machine.implementations.actors as Record<string, AnyActorLogic | undefined>;
      machine = flow.machine.provide({
        actors: Object.fromEntries([...names].map((name) => [name, this.turnActor(name, build, declared[name])])),
      });
      this.provided.set(flow, machine);
    }
    return machine;
  }

  /** Actor logic that behaves as the implementation `name` built for the current turn. */
  private turnActor(name: string, build: (scope: TurnScope) => Record<string, AnyActorLogic>, declared?: AnyActorLogic): AnyActorLogic {
    const current = (actorScope: { system: object }): AnyActorLogic => {
      let turn = this.turns.get(actorScope.system);
      if (!turn && this.creating) this.turns.set(actorScope.system, (turn = { scope: this.creating }));
      if (!turn?.scope) throw new Error(`actor ${name} used outside a turn`);
      turn.built ??= build(turn.scope);
      const logic = turn.built[name] ?? declared;
      if (!logic) throw new Error(`no implementation of actor ${name} for this turn`);
      this.lastLogic.set(name, logic);
      return logic;
    };
    return {
      transition: (snapshot, event, actorScope) => current(actorScope).transition(snapshot, event, actorScope),
      getInitialSnapshot: (actorScope, input) => current(actorScope).getInitialSnapshot(actorScope, input),
      // xstate gives no actor scope here; implementations of one name persist alike, whichever turn built them.
      getPersistedSnapshot: (snapshot, options) => {
        const logic = this.lastLogic.get(name) ?? declared;
        if (!logic) throw new Error(`no implementation of actor ${name} yet`);
        return logic.getPersistedSnapshot(snapshot, options);
      },
      restoreSnapshot: (snapshot, actorScope) => {
        const impl = current(actorScope);
        return impl.restoreSnapshot ? impl.restoreSnapshot(snapshot, actorScope) : snapshot;
      },
      start: (snapshot, actorScope) => current(actorScope).start?.(snapshot, actorScope),
    };
  }

  /** An actor error must never surface as an unhandled exception that takes the process down. */
  private observed(actor: AnyActorRef, key: string): AnyActorRef {
    actor.subscribe({ error: (err) => this.opts.logger.error({ err, conversation: key }, 'flow actor failed') });
    return actor;
  }
}
