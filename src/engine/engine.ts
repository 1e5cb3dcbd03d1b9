/**
 * Runs one turn of one conversation: lock, de-duplicate, restore the persisted snapshot, recognise
 * the input, send the event, wait for the flow's own actors, hand over to a next flow when one
 * finishes with `next`, persist everything at once, render. Channel-neutral: channels give an
 * Inbound and render the TurnResult.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createActor, waitFor, type AnyActorLogic, type AnyActorRef, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { z } from 'zod';
import type { FlowDefinition, FlowEvent, FlowInput, FlowOutput, Line, Locale, StepView } from '../../dialogs/flow';
import { normaliseLocale, type Translator } from '../i18n';
import type { Logger } from '../log';
import { ConcurrentTurnError, DuplicateActivityError } from '../storage/errors';
import type { ConversationState, FunnelEvent, Store, TranscriptEntry, TurnCommit } from '../storage/store';
import { Recogniser, type SmallTalk } from '../nlu/recogniser';
import {
  answersAhead,
  canTakeFromMessage,
  planMessageAnswers,
  rememberedAt,
  takenSummary,
  withRemembered,
  type MessagePlan,
  type TakenAnswer,
} from './answers-in-message';
import { clarificationLine, clarificationView, pendingClarification, withClarification, type Clarification } from './clarification';
import { matchCommand, type Command, type Vocabulary } from './recognizer';
import { cutToReadable, isTooLong, MAX_MESSAGE_CHARS, stripControlCharacters } from './text';
import type { Inbound, RenderedMessage, TurnOptions, TurnResult } from './types';
import type { Agents } from '../security/identity';

/** How long a turn waits for a flow's own actor (opening a case) before answering anyway. */
const BUSY_WAIT_MS = 5_000;
/** Hand-offs followed in one turn at most (a flow that finishes at once hands over again). */
const MAX_HANDOFFS = 3;
/**
 * A turn that lost the race to another instance (its commit found a newer turn stored) runs again on
 * what that instance stored. Each lost race means another turn of the conversation was committed, so
 * this bounds how many messages of one conversation may race on other instances at once; beyond it
 * the turn fails like any storage error.
 */
const MAX_TURN_ATTEMPTS = 10;
/**
 * Live flow actors kept between turns, most recently used first (README "Performance"): a turn whose
 * conversation is stored at exactly the turn an actor ended goes on with that actor instead of
 * restoring the stored snapshot into a new one.
 */
const LIVE_ACTORS_MAX = 500;

const persistedSnapshot = z.looseObject({
  status: z.enum(['active', 'done']),
  value: z.union([z.string(), z.record(z.string(), z.unknown())]),
  context: z.record(z.string(), z.unknown()),
});

/** What runtime-provided actors and intents may see and add to during one turn. */
export interface TurnScope {
  conversationKey: string;
  inbound: Inbound;
  locale: Locale;
  now: string;
  /** Extra writes committed in the same transaction as the turn (e.g. a new case). */
  commit: Partial<Omit<TurnCommit, 'conversation' | 'transcript'>>;
}

/**
 * Answers a message before the flow sees it (e.g. "status of PCE-000123"). Returning lines means
 * "handled": the flow does not move, the lines are shown above the current step.
 */
export type Intent = (text: string, scope: TurnScope) => Promise<Line[] | undefined>;

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
  /** Who may run agent triage (src/security/identity.ts); none when absent. */
  agents?: Pick<Agents, 'isAgent'>;
  /** The flow "triage" starts for an agent (default `agent-triage`, when it is among `flows`). */
  triageFlow?: string;
  /** Called after every turn (metrics). */
  onTurn?: (info: { channel: string; outcome?: string; ms: number; duplicate: boolean }) => void;
}

interface Running {
  flow: FlowDefinition;
  actor: AnyActorRef;
}

/** An actor left at the end of a committed turn: valid while the conversation is stored at `turn`. */
interface LiveActor extends Running {
  turn: number;
}

/** The turn an actor belongs to: its scope, and the actor implementations built for it (lazily). */
interface TurnActors {
  scope?: TurnScope;
  built?: Record<string, AnyActorLogic>;
}

export class Engine {
  private readonly vocab: Vocabulary;
  /** Free-text answers: exact paths, then each step's trained model (src/nlu/recogniser.ts). */
  private readonly recogniser: Recogniser;
  private readonly flows: Map<string, FlowDefinition>;
  private readonly clock: () => Date;
  /** Each flow's machine with its actors provided once (building a machine is costly; see machineFor). */
  private readonly provided = new Map<FlowDefinition, AnyStateMachine>();
  private readonly turnActors = new AsyncLocalStorage<TurnActors>();
  /** By conversation key, least recently used first; a turn takes its entry out while it runs. */
  private readonly live = new Map<string, LiveActor>();

  constructor(private readonly opts: EngineOptions) {
    this.recogniser = Recogniser.shared(opts.translator.resources);
    this.vocab = this.recogniser.vocab;
    this.flows = new Map([opts.flow, ...(opts.flows ?? [])].map((f) => [f.id, f]));
    this.clock = opts.clock ?? (() => new Date());
  }

  static conversationKey(inbound: Pick<Inbound, 'channel' | 'conversationId'>): string {
    return `${inbound.channel}:${inbound.conversationId}`;
  }

  async handle(received: Inbound, options: TurnOptions = {}): Promise<TurnResult> {
    const started = performance.now();
    const inbound = withCleanText(received);
    const key = Engine.conversationKey(inbound);
    let result: TurnResult;
    try {
      result = await this.opts.store.runExclusive(key, async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await this.turnActors.run({}, () => this.turn(key, inbound, options));
          } catch (err) {
            if (!(err instanceof ConcurrentTurnError) || attempt >= MAX_TURN_ATTEMPTS) throw err;
            this.opts.logger.info({ conversation: key, attempt }, 'another instance committed a turn of this conversation first; running the turn again');
          }
        }
      });
    } catch (err) {
      if (err instanceof DuplicateActivityError) {
        // Another instance committed the same activity first: handled once, nothing more to say.
        const duplicate: TurnResult = { duplicate: true, locale: 'en', conversationKey: key, messages: [], step: '' };
        this.opts.onTurn?.({ channel: inbound.channel, outcome: undefined, ms: performance.now() - started, duplicate: true });
        return duplicate;
      }
      // A failed turn (storage down, a bug) still counts for operators, as outcome `error`.
      this.opts.onTurn?.({ channel: inbound.channel, outcome: 'error', ms: performance.now() - started, duplicate: false });
      throw err;
    }
    this.opts.onTurn?.({ channel: inbound.channel, outcome: result.outcome, ms: performance.now() - started, duplicate: result.duplicate });
    return result;
  }

  private async turn(key: string, inbound: Inbound, options: TurnOptions): Promise<TurnResult> {
    const { store, translator } = this.opts;
    const activityKey = inbound.activityId ? `${inbound.channel}:${inbound.activityId}` : undefined;
    const userKey = `${inbound.channel}:${inbound.user.id}`;
    // One round trip: the processed check, the conversation and the user's language.
    const loaded = await store.loadTurn({ conversationKey: key, userKey, activityKey });
    if (loaded.processed) {
      return { duplicate: true, locale: loaded.conversation?.locale ?? 'en', conversationKey: key, messages: [], step: '' };
    }

    const now = this.clock().toISOString();
    const record = loaded.conversation;
    const chosenLocale = loaded.userLocale;
    let locale: Locale = chosenLocale ?? normaliseLocale(inbound.locale) ?? record?.locale ?? 'en';
    const scope: TurnScope = { conversationKey: key, inbound, locale, now, commit: {} };
    const turnActors = this.turnActors.getStore();
    if (turnActors) turnActors.scope = scope;
    const prefix: Line[] = [];
    let parents = record?.parents ?? [];

    let running = this.reuse(key, record) ?? (record ? this.restore(record.flowId, record.flowVersion, record.snapshot, key, scope, prefix) : undefined);
    if (record && !running) parents = [];
    const fresh = !running;
    /** A new run of the entry flow began this turn (funnel reports count runs, not chat threads). */
    let started = fresh;
    if (!running) running = this.start(this.opts.flow, this.entryInput(inbound, locale, now), scope);
    /** Ends what runs and begins a new run (of the guide, unless told) with nothing to go back to. */
    const beginRun = (flow: FlowDefinition = this.opts.flow, input: unknown = this.entryInput(inbound, locale, now)) => {
      running!.actor.stop();
      parents = [];
      running = this.start(flow, input, scope);
      started = true;
    };

    const before = running.actor.getSnapshot() as AnyMachineSnapshot;
    const beforeActor = running.actor;
    const beforeView = running.flow.view(before as never);
    const userText = inbound.text?.trim() ?? '';
    let event: FlowEvent | undefined;
    let answered: TurnResult['answered'];
    let stale = false;
    let command: Command | undefined;
    /** Two likely answers: the step is asked again with just those two (./clarification.ts). */
    let clarification: Clarification | undefined;
    /** Said back instead of passing the message on (small talk, an option number the step lacks). */
    let aside: Aside | undefined;
    /** The language was switched this turn: the step is put anew, openings and all. */
    let switched = false;
    let userSaid = userText;
    /**
     * Answers to the questions after this one (./answers-in-message.ts): `taken` are sent after `event`,
     * `ahead` are kept for the next turn. `planned`: this message had answers of its own.
     */
    let taken: TakenAnswer[] = [];
    let ahead: TakenAnswer[] = [];
    let planned = false;

    if (isTooLong(inbound.text)) {
      // Not read at all (no command, no answer): the person is asked for a shorter message, and the
      // question stands. The transcript keeps the message cut to what the bot reads.
      prefix.push({ key: 'common:tooLong', params: { max: new Intl.NumberFormat(locale === 'uk' ? 'uk-UA' : 'en-US').format(MAX_MESSAGE_CHARS) } });
      userSaid = cutToReadable(userText);
    } else if (inbound.choice) {
      const id = inbound.choice.id;
      if (id.startsWith('cmd.')) {
        command = id.slice(4) as Command;
      } else {
        const choice = beforeView.choices.find((c) => c.id === id);
        if (!choice || (inbound.choice.step && inbound.choice.step !== beforeView.step)) {
          stale = true;
          prefix.push({ key: 'common:stale' });
        } else {
          event = { type: 'CHOOSE', choice: id };
          const label = translator.t(locale, choice.labelKey, choice.params);
          answered = { step: beforeView.step, choiceId: id, label };
          userSaid = label;
        }
      }
    } else if (inbound.kind === 'greeting') {
      if (!fresh) prefix.push({ key: 'common:welcomeBack' });
    } else if (userText || inbound.attachments?.length) {
      command = userText ? this.commandIn(userText, locale) : undefined;
      let handledByIntent = false;
      if (!command && userText) {
        for (const intent of this.opts.intents ?? []) {
          const lines = await intent(userText, scope);
          if (lines) {
            prefix.push(...lines);
            handledByIntent = true;
            break;
          }
        }
      }
      if (!command && !handledByIntent) {
        const asked = !fresh && record?.flowId === running.flow.id ? pendingClarification(record.snapshot, beforeView.step) : undefined;
        const how: { exact?: boolean } = {};
        const understood = this.interpret(running.flow.id, beforeView, userText, inbound, locale, asked, how);
        const talk = this.smallTalkIn(understood, userText, locale);
        if (talk) aside = { kind: 'smallTalk', talk };
        else if (understood.type === 'CLARIFY') clarification = { step: beforeView.step, options: understood.options };
        else if (understood.type === 'OUT_OF_RANGE') aside = { kind: 'outOfRange', n: understood.n };
        else event = understood;
        if (aside) {
          // Said back, then the question as it stood (a clarifying question still pending, too).
          if (asked?.length === 2) clarification = { step: beforeView.step, options: [asked[0]!, asked[1]!] };
          const line = fresh ? freshAsideLine(aside) : asideLine(aside, beforeView, clarification?.options.length ?? beforeView.choices.length, translator, locale);
          if (line) prefix.push(line);
        }
        // The message may answer the questions after this one too (./answers-in-message.ts).
        // A whole label or an option number (a button's text) is one answer, nothing more to read.
        const plan = !aside && !how.exact && before.status === 'active' ? this.answersInMessage(running, before, beforeView, userText, locale, event) : undefined;
        if (plan?.kind === 'clarify') {
          clarification = { step: beforeView.step, options: plan.options };
          event = undefined;
        } else if (plan) {
          clarification = undefined;
          event = plan.events[0];
          taken = plan.taken;
        }
        planned = plan !== undefined;
        ahead = plan?.ahead ?? [];
      }
      // A first message that answers nothing ("hi") is a greeting, not a miss.
      if (fresh && event?.type === 'UNRECOGNISED') event = undefined;
    } else if (!fresh) {
      // An empty message (a press with no usable value, an unsupported attachment): re-ask.
      prefix.push({ key: 'common:notUnderstood' });
    }

    let userLocale: TurnCommit['userLocale'];
    if (command) {
      const outcome = this.command(command, locale, beforeView, prefix, inbound);
      if (outcome.locale) {
        locale = outcome.locale;
        scope.locale = locale;
        userLocale = { userKey, locale };
        switched = true;
      }
      if (outcome.restart) beginRun();
      // An agent starts a triage for a customer: a new run in agent mode.
      if (outcome.triage) beginRun(outcome.triage, { ...this.entryInput(inbound, locale, now), mode: 'agent' });
      event = outcome.event;
    }

    const offered = before.status === 'done' ? (before.output as FlowOutput | undefined)?.onSupport : undefined;
    const offeredFlow = offered && this.flows.get(offered.flow);
    if (event?.type === 'SUPPORT' && offered && offeredFlow && running.actor === beforeActor) {
      // Asking for support after an ending takes the hand-off the ended flow offered (agent: open the case).
      parents = [...parents, { flowId: running.flow.id, flowVersion: running.flow.version, snapshot: running.actor.getPersistedSnapshot() }];
      running.actor.stop();
      running = this.start(offeredFlow, offered.input, scope);
      event = undefined;
    }

    if (event && before.status === 'done' && event.type !== 'BACK') {
      // The flow already ended: anything but a command starts it again.
      beginRun();
      prefix.push({ key: 'common:startedAgain' });
      if (event.type === 'CHOOSE' || event.type === 'UNRECOGNISED' || event.type === 'TEXT') event = undefined;
    }

    if (event?.type === 'BACK' && before.status === 'done' && running.flow === this.opts.flow && running.actor === beforeActor && parents.length > 0) {
      // Back from an ending: the question answered last, kept when the ending was reached.
      const parent = parents[parents.length - 1]!;
      const resumed = this.restore(parent.flowId, parent.flowVersion, parent.snapshot, key, scope, prefix);
      if (resumed) {
        parents = parents.slice(0, -1);
        running.actor.stop();
        running = resumed;
        event = undefined;
      }
    }

    // Where the person stood before this event: a flow handed over from resumes here if they go back.
    let resumePoint = running.actor.getPersistedSnapshot();
    /** The actor that handled this turn's event: only its view's notices are news (Line.notice). */
    const notified = event ? running.actor : undefined;
    if (event) running.actor.send(event);
    if (event?.type === 'CHOOSE' && running.actor === beforeActor) {
      if (!planned) {
        // An earlier message answered questions after this one: skipped now that this one is answered.
        const kept = record?.flowId === running.flow.id && record.flowVersion === running.flow.version ? rememberedAt(record.snapshot, beforeView.step) : [];
        taken = kept.length ? this.answersAhead(running, kept, locale) : [];
        ahead = kept.filter((k) => !taken.some((t) => t.step === k.step));
      }
      for (const t of taken) {
        resumePoint = running.actor.getPersistedSnapshot();
        running.actor.send({ type: 'CHOOSE', choice: t.choice });
      }
      if (taken.length) prefix.push(takenSummary(translator, locale, running.flow.id, taken));
    } else {
      taken = [];
      // Kept through a clarifying question about this step; anything else leaves them behind.
      if (!clarification || running.actor !== beforeActor) ahead = [];
    }
    let snapshot = await this.settle(running.actor);

    const handedOver: { step: string; outcome: string }[] = [];
    // Hand-offs: a finished flow with `next` starts the next flow; a cancelled one resumes its parent.
    for (let hops = 0; snapshot.status === 'done' && hops < MAX_HANDOFFS; hops++) {
      const output = snapshot.output as FlowOutput | undefined;
      if (output?.next) {
        const next = this.flows.get(output.next.flow);
        if (!next) break; // no such flow configured: the finished view stands
        handedOver.push({ step: running.flow.view(snapshot as never).step, outcome: output.outcome });
        parents = [...parents, { flowId: running.flow.id, flowVersion: running.flow.version, snapshot: resumePoint }];
        running.actor.stop();
        running = this.start(next, output.next.input, scope);
        resumePoint = running.actor.getPersistedSnapshot();
      } else if (output?.outcome === 'cancelled' && parents.length > 0) {
        const parent = parents[parents.length - 1]!;
        parents = parents.slice(0, -1);
        running.actor.stop();
        const resumed = this.restore(parent.flowId, parent.flowVersion, parent.snapshot, key, scope, prefix);
        // The question to go back to is gone (an updated or damaged flow): the person is put at the
        // start of the guide, a new run like any other (funnel `started`).
        if (resumed) {
          running = resumed;
          // Asked again as a return, not as the run's opening (no second greeting).
          running.actor.send({ type: 'RESUME' });
        } else beginRun();
        resumePoint = running.actor.getPersistedSnapshot();
      } else {
        break;
      }
      snapshot = await this.settle(running.actor);
    }

    if (snapshot.status === 'done' && running.flow === this.opts.flow && (resumePoint as { status?: string }).status === 'active') {
      // The guide reached an ending this turn: keep the question before it so BACK can return there.
      parents = [...parents, { flowId: running.flow.id, flowVersion: running.flow.version, snapshot: resumePoint }];
    }

    const view = running.flow.view(snapshot as never);
    // What the step says this turn: notices only for the event just handled, openings only when the
    // step is put anew, nothing of an ending after a word said back (its buttons stay).
    const anew = started || running.actor !== beforeActor || view.step !== beforeView.step || switched;
    const lines = aside && view.outcome ? [] : shownLines(view.lines, { notices: notified === running.actor, openings: anew });
    const message = clarification
      ? this.render(locale, [...prefix, ...(fresh ? lines : []), clarificationLine(translator, locale, clarification.options)], clarificationView(view, clarification.options))
      : this.render(locale, [...prefix, ...lines], view);
    const conversation: ConversationState = {
      key,
      channel: inbound.channel,
      flowId: running.flow.id,
      flowVersion: running.flow.version,
      snapshot: withRemembered(
        withClarification(running.actor.getPersistedSnapshot(), clarification),
        snapshot.status === 'active' && running.actor === beforeActor ? { step: view.step, answers: ahead } : undefined,
      ),
      locale,
      parents,
      turn: (record?.turn ?? 0) + 1,
      userId: inbound.user.id,
      createdAt: record?.createdAt ?? now,
      updatedAt: now,
    };
    // Kept for the conversation's next turn only once this one is stored, and only at rest: an actor
    // still waiting on one of its own actors would move on outside any turn.
    const ended: LiveActor | undefined =
      snapshot.status === 'active' && !snapshot.hasTag('busy') && Object.keys(snapshot.children).length === 0
        ? { ...running, turn: conversation.turn }
        : undefined;
    if (!ended) running.actor.stop();

    const transcript: TranscriptEntry[] = [];
    if (userSaid) transcript.push({ at: now, from: 'user', text: userSaid });
    transcript.push({ at: now, from: 'bot', text: message.paragraphs.join('\n\n') });
    const entered = started || view.step !== beforeView.step;
    try {
      await store.commitTurn({
        ...scope.commit,
        conversation,
        transcript,
        activityKey,
        userLocale,
        funnel: [
          ...(scope.commit.funnel ?? []),
          ...this.funnel(key, inbound, locale, snapshot, { started, entered, answeredStep: beforeView.step, taken, handedOver }, view, event),
        ],
        ...(options.keepReplies ? { replies: this.keptReplies(options.keepReplies, locale, [message]) } : {}),
      });
    } catch (err) {
      ended?.actor.stop();
      throw err;
    }
    if (ended) this.keepLive(key, ended);

    return {
      duplicate: false,
      locale,
      conversationKey: key,
      messages: [message],
      step: view.step,
      outcome: view.outcome,
      answered: event?.type === 'CHOOSE' ? answered : undefined,
      stale,
      ...(options.keepReplies ? { storedReplies: { turn: conversation.turn } } : {}),
    };
  }

  /** The replies as the turn's commit keeps them (TurnOptions.keepReplies); a claim runs from the commit. */
  private keptReplies(keep: NonNullable<TurnOptions['keepReplies']>, locale: Locale, messages: RenderedMessage[]): NonNullable<TurnCommit['replies']> {
    if (keep.state === 'answered') return { state: 'answered', locale, messages };
    return { state: 'pending', locale, messages, claimedBy: keep.claim.by, claimedUntil: new Date(this.clock().getTime() + keep.claim.leaseMs).toISOString() };
  }

  /**
   * What a message of several statements answers beyond the question asked (./answers-in-message.ts):
   * the events to send instead of `understood`, a clarifying question, or nothing to change.
   */
  private answersInMessage(running: Running, at: AnyMachineSnapshot, asked: StepView, text: string, locale: Locale, understood: FlowEvent | undefined): MessagePlan | undefined {
    if (!text || asked.expects !== 'choice') return undefined;
    const flowId = running.flow.id;
    const scan = this.recogniser.scanMessage(flowId, text, locale, asked.step);
    if (!scan) return undefined;
    const { translator } = this.opts;
    return planMessageAnswers({
      flow: running.flow,
      // The running actor's own machine (with the runtime's actors), whose snapshots these are.
      machine: (running.actor as unknown as { logic: AnyStateMachine }).logic,
      snapshot: at,
      asked,
      understood: understood?.type === 'CHOOSE' ? understood.choice : undefined,
      scan,
      canTake: (step, choice) => canTakeFromMessage(translator, locale, flowId, step, choice),
    });
  }

  /** Of answers an earlier message gave, those the flow now asks for one after another. */
  private answersAhead(running: Running, answers: TakenAnswer[], locale: Locale): TakenAnswer[] {
    const { translator } = this.opts;
    return answersAhead({
      flow: running.flow,
      machine: (running.actor as unknown as { logic: AnyStateMachine }).logic,
      snapshot: running.actor.getSnapshot() as AnyMachineSnapshot,
      answers,
      canTake: (step, choice) => canTakeFromMessage(translator, locale, running.flow.id, step, choice),
    });
  }

  /** Waits while the flow runs its own actors (states tagged `busy`), bounded by BUSY_WAIT_MS. */
  private async settle(actor: AnyActorRef): Promise<AnyMachineSnapshot> {
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
   * the turn it runs in (`opts.actors(scope)`, found through AsyncLocalStorage; promise callbacks of
   * an actor started in a turn stay in that turn).
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
    const current = (): AnyActorLogic => {
      const turn = this.turnActors.getStore();
      if (!turn?.scope) throw new Error(`actor ${name} used outside a turn`);
      turn.built ??= build(turn.scope);
      const logic = turn.built[name] ?? declared;
      if (!logic) throw new Error(`no implementation of actor ${name} for this turn`);
      return logic;
    };
    const logic: AnyActorLogic = {
      transition: (snapshot, event, actorScope) => current().transition(snapshot, event, actorScope),
      getInitialSnapshot: (actorScope, input) => current().getInitialSnapshot(actorScope, input),
      getPersistedSnapshot: (snapshot, options) => current().getPersistedSnapshot(snapshot, options),
      restoreSnapshot: (snapshot, actorScope) => {
        const impl = current();
        return impl.restoreSnapshot ? impl.restoreSnapshot(snapshot, actorScope) : snapshot;
      },
      start: (snapshot, actorScope) => current().start?.(snapshot, actorScope),
    };
    return logic;
  }

  /** Restores a stored flow snapshot, or returns undefined (with an apology line) when it cannot be. */
  private restore(
    flowId: string,
    flowVersion: number,
    stored: unknown,
    key: string,
    scope: TurnScope,
    prefix: Line[],
  ): Running | undefined {
    const { logger } = this.opts;
    const flow = this.flows.get(flowId);
    if (!flow || flow.version !== flowVersion) {
      prefix.push({ key: 'common:restartedAfterUpdate' });
      return undefined;
    }
    const parsed = persistedSnapshot.safeParse(stored);
    if (parsed.success) {
      try {
        const actor = this.observed(createActor(this.machineFor(flow, scope), { snapshot: stored as never }), key);
        actor.start();
        const restored = actor.getSnapshot() as AnyMachineSnapshot;
        if (restored.status === 'error') throw restored.error;
        flow.view(restored as never); // proves the stored state still exists in this flow
        return { flow, actor };
      } catch (err) {
        logger.warn({ err, conversation: key }, 'stored snapshot could not be restored');
      }
    } else {
      logger.warn({ conversation: key, issues: parsed.error.issues.length }, 'stored snapshot failed validation');
    }
    prefix.push({ key: 'common:restartedAfterError' });
    return undefined;
  }

  private entryInput(inbound: Inbound, locale: Locale, now: string): FlowInput {
    return {
      locale,
      channel: inbound.channel,
      user: { id: inbound.user.id, name: inbound.user.name, email: inbound.user.email },
      mode: 'self',
      startedAt: now,
    };
  }

  /** The live actor of the conversation's last turn, when the store holds exactly that turn. */
  private reuse(key: string, record: ConversationState | undefined): Running | undefined {
    const live = this.live.get(key);
    if (!live) return undefined;
    this.live.delete(key);
    if (record && live.turn === record.turn && live.flow.id === record.flowId && live.flow.version === record.flowVersion) {
      return { flow: live.flow, actor: live.actor };
    }
    // Another instance, the retention job or a failed turn moved the conversation on: restore it.
    live.actor.stop();
    return undefined;
  }

  private keepLive(key: string, live: LiveActor): void {
    this.live.get(key)?.actor.stop();
    this.live.delete(key);
    this.live.set(key, live);
    if (this.live.size > LIVE_ACTORS_MAX) {
      const [oldestKey, oldest] = this.live.entries().next().value as [string, LiveActor];
      this.live.delete(oldestKey);
      oldest.actor.stop();
    }
  }

  private start(flow: FlowDefinition, input: unknown, scope: TurnScope): Running {
    const actor = this.observed(createActor(this.machineFor(flow, scope), { input }), scope.conversationKey);
    actor.start();
    return { flow, actor };
  }

  /** An actor error must never surface as an unhandled exception that takes the process down. */
  private observed(actor: AnyActorRef, key: string): AnyActorRef {
    actor.subscribe({ error: (err) => this.opts.logger.error({ err, conversation: key }, 'flow actor failed') });
    return actor;
  }

  /**
   * The command a message names: spelled exactly, or with a typo unless the message is small talk
   * ("who is this" is not a typo of "what is this").
   */
  private commandIn(text: string, locale: Locale): Command | undefined {
    const match = matchCommand(this.vocab, text);
    if (!match) return undefined;
    return match.exact || !this.recogniser.smallTalk(text, locale) ? match.command : undefined;
  }

  /**
   * Small talk ("hi", "thx", "хвилинку", "ти бот?") in a message that answers nothing at the step: not
   * understood as an option, only unclearly (no clarifying question to "who am I talking to?"), or
   * typed where the step waits for text (no order number is "thanks").
   */
  private smallTalkIn(understood: { type: string }, text: string, locale: Locale): SmallTalk | undefined {
    if (!text || !['UNRECOGNISED', 'TEXT', 'CLARIFY'].includes(understood.type)) return undefined;
    return this.recogniser.smallTalk(text, locale);
  }

  /**
   * What a message means at the step: an attachment, one of the step's options (src/nlu/recogniser.ts:
   * exact paths first, then the step's trained model), a clarifying question between two options, or
   * typed text for a step that waits for it.
   */
  private interpret(
    flowId: string,
    view: StepView,
    text: string,
    inbound: Inbound,
    locale: Locale,
    clarifying?: readonly string[],
    /** Set when the message was an option number or a whole label (no other answers in it). */
    how: { exact?: boolean } = {},
  ): FlowEvent | { type: 'CLARIFY'; options: [string, string] } | { type: 'OUT_OF_RANGE'; n: number } {
    if (view.expects === 'attachment' && inbound.attachments?.length) return { type: 'ATTACH', files: inbound.attachments };
    if (view.choices.length && text) {
      const { translator } = this.opts;
      // The person's own language first: a label that exists in both is still found once.
      const languages: Locale[] = locale === 'uk' ? ['uk', 'en'] : ['en', 'uk'];
      const options = view.choices.map((c) => ({ id: c.id, labels: languages.map((l) => translator.t(l, c.labelKey, c.params)) }));
      const understood = this.recogniser.recognise({ flow: flowId, step: view.step, locale, text, options, clarifying });
      if (understood.kind === 'choice') {
        how.exact = understood.via === 'number' || understood.via === 'exact';
        return { type: 'CHOOSE', choice: understood.choice };
      }
      if (understood.kind === 'clarify' && view.expects === 'choice') return { type: 'CLARIFY', options: understood.options };
      if (understood.kind === 'none' && understood.outOfRange !== undefined && view.expects === 'choice') return { type: 'OUT_OF_RANGE', n: understood.outOfRange };
    }
    if (view.expects === 'text' && text) return { type: 'TEXT', text };
    return { type: 'UNRECOGNISED', text };
  }

  private command(
    command: Command,
    locale: Locale,
    view: StepView,
    prefix: Line[],
    inbound: Inbound,
  ): { event?: FlowEvent; restart?: boolean; locale?: Locale; triage?: FlowDefinition } {
    switch (command) {
      case 'back':
        return { event: { type: 'BACK' } };
      case 'restart':
        prefix.push({ key: 'common:startedAgain' });
        return { restart: true };
      case 'help':
        prefix.push({ key: view.helpKey });
        return {};
      case 'support':
        return { event: { type: 'SUPPORT' } };
      case 'lang_en':
      case 'lang_uk':
      case 'language': {
        const next: Locale = command === 'lang_en' ? 'en' : command === 'lang_uk' ? 'uk' : locale === 'uk' ? 'en' : 'uk';
        prefix.push({ key: 'common:languageSwitched' });
        return { locale: next };
      }
      case 'triage': {
        const flow = this.flows.get(this.opts.triageFlow ?? 'agent-triage');
        if (!flow) {
          prefix.push({ key: 'common:triageUnavailable' });
          return {};
        }
        if (!this.opts.agents?.isAgent(inbound.user)) {
          prefix.push({ key: 'agent:notAgent' });
          return {};
        }
        return { triage: flow };
      }
      default:
        return {};
    }
  }

  private funnel(
    key: string,
    inbound: Inbound,
    locale: Locale,
    snapshot: AnyMachineSnapshot,
    turn: { started: boolean; entered: boolean; answeredStep: string; taken: TakenAnswer[]; handedOver: { step: string; outcome: string }[] },
    view: StepView,
    event: FlowEvent | undefined,
  ): FunnelEvent[] {
    const { started, entered, answeredStep, taken, handedOver } = turn;
    const at = this.clock().toISOString();
    const mode = ((snapshot.context as { mode?: 'self' | 'agent' } | undefined)?.mode ?? 'self') as 'self' | 'agent';
    const base = { at, conversationKey: key, channel: inbound.channel, locale, mode };
    const out: FunnelEvent[] = [];
    if (event?.type === 'CHOOSE') out.push({ ...base, kind: 'answer', step: answeredStep, value: event.choice });
    // The questions the same message answered too, each as answered (./answers-in-message.ts).
    for (const t of taken) out.push({ ...base, kind: 'answer', step: t.step, value: t.choice });
    if (started) out.push({ ...base, kind: 'started', step: view.step });
    // A flow that finished and handed over (needs_case -> support-case intake) ended too.
    for (const h of handedOver) out.push({ ...base, kind: 'outcome', step: h.step, value: h.outcome });
    if (entered) out.push({ ...base, kind: 'step_entered', step: view.step });
    if (entered && view.outcome) out.push({ ...base, kind: 'outcome', step: view.step, value: view.outcome });
    // One per committed turn: turn counts and the last activity (idle -> abandoned) come from these.
    out.push({ ...base, kind: 'turn', step: view.step });
    return out;
  }

  render(locale: Locale, lines: Line[], view: StepView): RenderedMessage {
    const { t } = this.opts.translator;
    const choices = view.choices.map((c) => ({ id: c.id, label: t(locale, c.labelKey, c.params) }));
    // Only a re-prompt lists the options in its text: built on demand, not on every turn.
    const listed = () => choices.map((c, i) => t(locale, 'common:listedOption', { n: i + 1, label: c.label })).join(t(locale, 'common:listedOptionSeparator'));
    return {
      paragraphs: lines
        .map((l) => {
          const text = t(locale, l.key, l.params);
          return l.listChoices && choices.length ? `${text} ${listed()}` : text;
        })
        .filter((p) => p.length > 0),
      choices,
      links: view.links.map((l) => ({ label: t(locale, l.labelKey), url: l.url })),
      facts: view.facts.map((f) => ({ label: t(locale, f.labelKey), value: f.valueKey ? t(locale, f.valueKey) : (f.value ?? '') })),
      step: view.step,
      expects: view.expects,
    };
  }
}

/** What the engine says back instead of passing a message on to the flow. */
type Aside = { kind: 'smallTalk'; talk: SmallTalk } | { kind: 'outOfRange'; n: number };

/**
 * The answer to small talk, or the option number that does not exist (with the options listed). At
 * an ending (a view with an outcome) small talk gets its own wording where there is one: nothing is
 * asked there, and "thanks" must not sound like a question.
 */
function asideLine(aside: Aside, view: StepView, options: number, translator: Translator, locale: Locale): Line {
  if (aside.kind === 'outOfRange') {
    return options === 1
      ? { key: 'common:noSuchOptionOnly', params: { n: aside.n }, listChoices: true }
      : { key: 'common:noSuchOption', params: { n: aside.n, last: options }, listChoices: true };
  }
  const atEnd = `common:smallTalk.atEnd.${aside.talk}`;
  return { key: view.outcome && translator.has(locale, atEnd) ? atEnd : `common:smallTalk.${aside.talk}` };
}

/**
 * A new conversation's first message: the greeting that starts the run answers small talk and an
 * option number alike, except "who are you?", which is answered before it.
 */
function freshAsideLine(aside: Aside): Line | undefined {
  return aside.kind === 'smallTalk' && aside.talk === 'identity' ? { key: 'common:smallTalk.identity' } : undefined;
}

/** A view's lines as this turn shows them (dialogs/flow.ts: `Line.notice`, `Line.opening`). */
function shownLines(lines: Line[], show: { notices: boolean; openings: boolean }): Line[] {
  return lines.filter((l) => (show.notices || !l.notice) && (show.openings || !l.opening));
}

/**
 * The inbound with control characters stripped from what the person wrote (./text.ts): the channels
 * strip them at validation, this covers those that read text elsewhere (Webex, the terminal).
 */
function withCleanText(inbound: Inbound): Inbound {
  const text = inbound.text === undefined ? undefined : stripControlCharacters(inbound.text);
  const name = inbound.user.name === undefined ? undefined : stripControlCharacters(inbound.user.name);
  if (text === inbound.text && name === inbound.user.name) return inbound;
  return { ...inbound, ...(text !== undefined ? { text } : {}), user: { ...inbound.user, ...(name !== undefined ? { name } : {}) } };
}
