/**
 * One turn, as a story: load what is stored, restore the flow, read the message, apply a command,
 * route around endings, send the event, settle and hand off, render, commit. Each phase lives in a
 * module of its own; this file only orders them and carries the turn's state between them.
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { FlowDefinition, FlowEvent, Line, Locale } from '../../dialogs/flow';
import { normaliseLocale, type Translator } from '../i18n';
import { userKeyOf } from '../security/identity';
import type { ConversationState, Store, TranscriptEntry, TurnCommit } from '../storage/store';
import { rememberedAt, takenSummary, withRemembered, type TakenAnswer } from './answers-in-message';
import { chooseAfterEnding, type EndingChoices } from './ending-choices';
import { clarificationLine, clarificationView, withClarification } from './clarification';
import { runCommand } from './commands';
import { persistLater, type FlowActors, type LiveActor, type Running } from './flow-actors';
import { funnelEvents } from './funnel';
import { beginRun, followHandOffs, routeAfterEnding, startOnTop, type HandoffContext, type Place } from './handoffs';
import { activityKeyOf, entryInput, withPerson } from './identity';
import type { ProactiveFlows } from './proactive';
import type { MessageReader, Reading } from './read-message';
import { renderMessage, shownLines } from './render';
import type { TurnObserver, TurnScope } from './scope';
import type { Inbound, InboundUser, RenderedMessage, TurnOptions, TurnResult } from './types';

export interface TurnDeps {
  store: Store;
  translator: Translator;
  clock: () => Date;
  actors: FlowActors;
  reader: MessageReader;
  flows: Map<string, FlowDefinition>;
  entry: FlowDefinition;
  /** The agent triage flow, when one is configured. */
  triageFlow?: FlowDefinition;
  isAgent: (user: InboundUser) => boolean;
  /** What an event turn starts (./proactive.ts). */
  proactive: ProactiveFlows;
  /** What a choice an ending offers beyond the flow's own starts (./ending-choices.ts). */
  endingChoices?: EndingChoices;
  observers: TurnObserver[];
}

export async function runTurn(deps: TurnDeps, key: string, received: Inbound, options: TurnOptions): Promise<TurnResult> {
  let inbound = received;
  const { store, translator, actors } = deps;
  const activityKey = activityKeyOf(inbound);
  const userKey = userKeyOf(inbound);

  // Load: one round trip for the processed check, the conversation and the user's language. The row
  // is not read again when the store is still at the turn this process kept it at with its live actor.
  const kept = actors.keptRow(key);
  const knownTurn = kept?.turn;
  let loaded = await store.loadTurn({ conversationKey: key, userKey, activityKey, knownTurn });
  if (loaded.processed) {
    return { duplicate: true, locale: (loaded.unchanged ? kept : loaded.conversation)?.locale ?? 'en', conversationKey: key, messages: [], step: '' };
  }
  const live = actors.take(key);
  // The live actor went while the load ran (dropped for others): the row is read after all.
  if (loaded.unchanged && live?.stored.turn !== knownTurn) loaded = await store.loadTurn({ conversationKey: key, userKey, activityKey });
  const record = loaded.unchanged ? live?.stored : loaded.conversation;
  const now = deps.clock().toISOString();
  let locale: Locale = loaded.userLocale ?? normaliseLocale(inbound.locale) ?? record?.locale ?? 'en';
  // Who the person is beyond the message: asked of the channel once, and only when the turn needs it.
  let identifying: Promise<Inbound> | undefined;
  const identified = (): Promise<Inbound> =>
    (identifying ??= (options.identify?.() ?? Promise.resolve(undefined)).then((person) => {
      inbound = withPerson(inbound, person);
      scope.inbound = inbound;
      return inbound;
    }));
  const scope: TurnScope = { conversationKey: key, inbound, identified, locale, now, commit: {} };
  // An event starts its flow over the stored conversation; without either it changes nothing.
  if (inbound.kind === 'event' && record) await identified();
  const pushed = inbound.kind === 'event' ? deps.proactive.resolve(inbound.event, entryInput(inbound, locale, now)) : undefined;
  const pushedFlow = pushed && deps.flows.get(pushed.flow);
  if (inbound.kind === 'event' && (!record || !pushedFlow)) {
    if (live) actors.keepLive(key, live); // nothing moved on: still the conversation's latest
    return { duplicate: false, locale, conversationKey: key, messages: [], step: '', skipped: record ? 'unknown-event' : 'no-conversation' };
  }
  const prefix: Line[] = [];

  // Restore: the live actor of the last turn, the stored snapshot, or a new run (which keeps who the person is).
  const ctx: HandoffContext = { actors, flows: deps.flows, entry: deps.entry, scope, prefix, entryInput: () => entryInput(inbound, locale, now) };
  const restored = actors.reuse(live, record, scope) ?? (record ? actors.restore(record.flowId, record.flowVersion, record.snapshot, scope, prefix) : undefined);
  const fresh = !restored;
  if (fresh) await identified();
  const place: Place = {
    running: restored ?? actors.start(deps.entry, ctx.entryInput(), scope),
    parents: restored ? (record?.parents ?? []) : [],
    started: fresh,
  };
  const before = place.running.actor.getSnapshot() as AnyMachineSnapshot;
  const beforeActor = place.running.actor;
  // Still at the snapshot its view was built for (the last turn's end, or the restore's check): views are pure.
  const beforeView = restored?.seen?.snapshot === before ? restored.seen.view : place.running.flow.view(before as never);

  // Read the message.
  const reading = await deps.reader.read({ inbound, locale, fresh, record, running: place.running, before, beforeView, scope, prefix });
  let { event } = reading;
  // Starting over, agent triage, or anything said after an ending may begin a new run: it starts knowing the person.
  if (reading.command === 'restart' || reading.command === 'triage' || before.status === 'done') await identified();

  // A command: a language, a new run, agent triage, or an event for the flow.
  let userLocale: TurnCommit['userLocale'];
  let switched = false;
  if (reading.command) {
    const outcome = runCommand(reading.command, { locale, view: beforeView, prefix, user: inbound.user, triageFlow: deps.triageFlow, isAgent: deps.isAgent });
    if (outcome.locale) {
      locale = outcome.locale;
      scope.locale = locale;
      userLocale = { userKey, locale };
      switched = true;
    }
    if (outcome.restart) beginRun(place, ctx);
    // An agent starts a triage for a customer: a new run in agent mode.
    if (outcome.triage) beginRun(place, ctx, outcome.triage, { ...entryInput(inbound, locale, now), mode: 'agent' });
    event = outcome.event;
  }
  if (pushed && pushedFlow) startOnTop(place, ctx, pushedFlow, pushed.input);
  // A choice an ending offers beyond the flow's own starts its flow over the ending; anything else is routed around it.
  event = chooseAfterEnding(deps.endingChoices, place, ctx, { before, beforeActor, beforeView, event }) ?? routeAfterEnding(place, ctx, before, beforeActor, event);

  // Send the event, and the answers the message gave to the questions after it.
  const sent = sendEvent(deps, place.running, event, { record, reading, beforeActor, beforeView: beforeView.step, locale, prefix });
  const settled = await actors.settle(place.running.actor);

  // Hand off: a finished flow starts the next; a cancelled one resumes its parent.
  const { snapshot, handedOver } = await followHandOffs(place, ctx, settled, sent.resumePoint);
  const { running } = place;

  // Render what the step says this turn: notices only for the event just handled, openings only when
  // the step is put anew, nothing of an ending after a word said back (its buttons stay).
  const view = running.flow.view(snapshot as never);
  const { aside, clarification } = reading;
  const anew = place.started || running.actor !== beforeActor || view.step !== beforeView.step || switched;
  const lines = aside && view.outcome ? [] : shownLines(view.lines, { notices: sent.notified === running.actor, openings: anew });
  const message = clarification
    ? renderMessage(translator, locale, [...prefix, ...(fresh ? lines : []), clarificationLine(translator, locale, clarification.options)], clarificationView(view, clarification.options))
    : renderMessage(translator, locale, [...prefix, ...lines], view);

  // Commit everything at once, the channel's marked rows only when what they depend on changed.
  const channelMark = options.marked?.mark ?? record?.channelMark;
  const conversation: ConversationState = {
    key,
    channel: inbound.channel,
    flowId: running.flow.id,
    flowVersion: running.flow.version,
    snapshot: withRemembered(
      withClarification(running.actor.getPersistedSnapshot(), clarification),
      snapshot.status === 'active' && running.actor === beforeActor ? { step: view.step, answers: sent.ahead } : undefined,
    ),
    locale,
    parents: place.parents,
    turn: (record?.turn ?? 0) + 1,
    userId: inbound.user.id,
    createdAt: record?.createdAt ?? now,
    updatedAt: now,
    ...(channelMark ? { channelMark } : {}),
  };
  const markedRows = options.marked && options.marked.mark !== record?.channelMark ? options.marked.rows() : undefined;
  // Kept for the conversation's next turn only once this one is stored, and only at rest: an actor
  // still waiting on one of its own actors would move on outside any turn. A finished flow is at rest
  // too (its next turn reads its ending and starts another flow), so it is not restored either.
  const ended: LiveActor | undefined =
    (snapshot.status === 'active' || snapshot.status === 'done') && !snapshot.hasTag('busy') && Object.keys(snapshot.children).length === 0 ? { flow: running.flow, actor: running.actor, stored: conversation, seen: { snapshot, view } } : undefined;
  if (!ended) running.actor.stop();

  for (const observe of deps.observers) observe(scope, { stored: record, flowId: running.flow.id });
  const transcript: TranscriptEntry[] = [];
  if (reading.userSaid) transcript.push({ at: now, from: 'user', text: reading.userSaid });
  transcript.push({ at: now, from: 'bot', text: message.paragraphs.join('\n\n') });
  const facts = {
    at: deps.clock().toISOString(),
    conversationKey: key,
    channel: inbound.channel,
    locale,
    started: place.started,
    entered: place.started || view.step !== beforeView.step,
    answeredStep: beforeView.step,
    taken: sent.taken,
    handedOver,
  };
  const replies = options.keepReplies ? keptReplies(options.keepReplies, locale, [message], deps.clock) : undefined;
  try {
    await store.commitTurn({
      ...options.alsoCommit,
      ...markedRows,
      ...scope.commit,
      conversation,
      transcript,
      activityKey,
      userLocale,
      funnel: [...(scope.commit.funnel ?? []), ...funnelEvents(facts, snapshot, view, event)],
      ...(replies ? { replies } : {}),
    });
  } catch (err) {
    ended?.actor.stop();
    throw err;
  }
  if (ended) actors.keepLive(key, ended);

  return {
    duplicate: false,
    locale,
    conversationKey: key,
    messages: [message],
    step: view.step,
    outcome: view.outcome,
    answered: event?.type === 'CHOOSE' ? reading.answered : undefined,
    stale: reading.stale,
    ...(replies ? { storedReplies: { turn: conversation.turn, ...(replies.owed ? { owed: replies.owed } : {}) } } : {}),
  };
}

/**
 * Sends the turn's event to the running flow; after an answer, the answers the same message (or an
 * earlier one) gave to the questions that follow, each as if answered in turn. Returns where the
 * person stood before the last of them (a flow handed over from resumes there; persisted only when
 * asked for), the actor that handled the event (only its notices are news), and the answers taken
 * and still kept ahead.
 */
function sendEvent(
  deps: TurnDeps,
  running: Running,
  event: FlowEvent | undefined,
  at: { record?: ConversationState; reading: Reading; beforeActor: Running['actor']; beforeView: string; locale: Locale; prefix: Line[] },
): { resumePoint: () => unknown; notified?: Running['actor']; taken: TakenAnswer[]; ahead: TakenAnswer[] } {
  const { record, reading } = at;
  let { taken, ahead } = reading;
  let resumePoint = persistLater(running.actor);
  const notified = event ? running.actor : undefined;
  if (event) running.actor.send(event);
  if (event?.type === 'CHOOSE' && running.actor === at.beforeActor) {
    if (!reading.planned) {
      // An earlier message answered questions after this one: skipped now that this one is answered.
      const kept = record?.flowId === running.flow.id && record.flowVersion === running.flow.version ? rememberedAt(record.snapshot, at.beforeView) : [];
      taken = kept.length ? deps.reader.answersAhead(running, kept, at.locale) : [];
      ahead = kept.filter((k) => !taken.some((t) => t.step === k.step));
    }
    for (const t of taken) {
      resumePoint = persistLater(running.actor);
      running.actor.send({ type: 'CHOOSE', choice: t.choice });
    }
    if (taken.length) at.prefix.push(takenSummary(deps.translator, at.locale, running.flow.id, taken));
  } else {
    taken = [];
    // Kept through a clarifying question about this step; anything else leaves them behind.
    if (!reading.clarification || running.actor !== at.beforeActor) ahead = [];
  }
  return { resumePoint, notified, taken, ahead };
}

/** The replies as the turn's commit keeps them (TurnOptions.keepReplies); a claim runs from the commit. */
function keptReplies(keep: NonNullable<TurnOptions['keepReplies']>, locale: Locale, messages: RenderedMessage[], clock: () => Date): NonNullable<TurnCommit['replies']> {
  if (keep.state === 'answered') return { state: 'answered', locale, messages };
  return { state: 'pending', locale, messages, claimedBy: keep.claim.by, claimedUntil: new Date(clock().getTime() + keep.claim.leaseMs).toISOString() };
}
