/**
 * Runs one turn of one conversation: lock, de-duplicate, restore the persisted snapshot, recognise
 * the input, send the event, wait for the flow's own actors, persist everything at once, render.
 * Channel-neutral: channels give an Inbound and render the TurnResult.
 */
import { createActor, waitFor, type AnyActorLogic, type AnyActorRef, type AnyMachineSnapshot } from 'xstate';
import { z } from 'zod';
import type { FlowDefinition, FlowEvent, FlowInput, Line, Locale, StepView } from '../../dialogs/flow';
import { normaliseLocale, type Translator } from '../i18n';
import type { Logger } from '../log';
import type { ConversationState, FunnelEvent, Store, TranscriptEntry } from '../storage/store';
import { buildVocabulary, recogniseChoice, recogniseCommand, type Command, type Vocabulary } from './recognizer';
import type { Inbound, RenderedMessage, TurnResult } from './types';

/** How long a turn waits for a flow's own actor (opening a case) before answering anyway. */
const BUSY_WAIT_MS = 5_000;

const persistedSnapshot = z.looseObject({
  status: z.enum(['active', 'done']),
  value: z.union([z.string(), z.record(z.string(), z.unknown())]),
  context: z.record(z.string(), z.unknown()),
});

export interface EngineOptions {
  store: Store;
  flow: FlowDefinition;
  translator: Translator;
  logger: Logger;
  clock?: () => Date;
  /** Implementations of the actors the flow declares in setup() (e.g. openCase), provided at assembly. */
  actors?: Record<string, AnyActorLogic>;
  /** Ids of people who may run agent triage. */
  agentIds?: ReadonlySet<string>;
  /** Called after every committed turn (metrics). */
  onTurn?: (info: { channel: string; outcome?: string; ms: number; duplicate: boolean }) => void;
}

export class Engine {
  private readonly vocab: Vocabulary;
  private readonly machine: FlowDefinition['machine'];
  private readonly clock: () => Date;

  constructor(private readonly opts: EngineOptions) {
    this.vocab = buildVocabulary(opts.translator.resources);
    this.machine = opts.actors ? opts.flow.machine.provide({ actors: opts.actors }) : opts.flow.machine;
    this.clock = opts.clock ?? (() => new Date());
  }

  static conversationKey(inbound: Pick<Inbound, 'channel' | 'conversationId'>): string {
    return `${inbound.channel}:${inbound.conversationId}`;
  }

  async handle(inbound: Inbound): Promise<TurnResult> {
    const started = performance.now();
    const key = Engine.conversationKey(inbound);
    const result = await this.opts.store.runExclusive(key, () => this.turn(key, inbound));
    this.opts.onTurn?.({ channel: inbound.channel, outcome: result.outcome, ms: performance.now() - started, duplicate: result.duplicate });
    return result;
  }

  private async turn(key: string, inbound: Inbound): Promise<TurnResult> {
    const { store, flow, translator } = this.opts;
    const activityKey = inbound.activityId ? `${inbound.channel}:${inbound.activityId}` : undefined;
    if (activityKey && (await store.isProcessed(activityKey))) {
      const existing = await store.loadConversation(key);
      return { duplicate: true, locale: existing?.locale ?? 'en', conversationKey: key, messages: [], step: '' };
    }

    const now = this.clock().toISOString();
    const userKey = `${inbound.channel}:${inbound.user.id}`;
    const [record, chosenLocale] = await Promise.all([store.loadConversation(key), store.getUserLocale(userKey)]);
    let locale: Locale = chosenLocale ?? normaliseLocale(inbound.locale) ?? record?.locale ?? 'en';
    let userLocale: { userKey: string; locale: Locale } | undefined;
    const prefix: Line[] = [];

    let actor = record ? this.restore(record, prefix) : undefined;
    const fresh = !actor;
    if (!actor) actor = this.start(inbound, locale, now);

    const before = actor.getSnapshot() as AnyMachineSnapshot;
    const beforeView = flow.view(before as never);
    const userText = inbound.text?.trim() ?? '';
    let event: FlowEvent | undefined;
    let answered: TurnResult['answered'];
    let stale = false;
    let command: Command | undefined;
    let userSaid = userText;

    if (inbound.choice) {
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
      command = userText ? recogniseCommand(this.vocab, userText) : undefined;
      if (!command) event = this.interpret(beforeView, userText, inbound, locale);
    } else if (!fresh) {
      // An empty message (a press with no usable value, an unsupported attachment): re-ask.
      prefix.push({ key: 'common:notUnderstood' });
    }

    if (command) {
      const outcome = this.command(command, locale, beforeView, prefix);
      if (outcome.locale && outcome.locale !== locale) {
        locale = outcome.locale;
        userLocale = { userKey, locale };
      } else if (outcome.locale) {
        userLocale = { userKey, locale };
      }
      if (outcome.restart) {
        actor.stop();
        actor = this.start(inbound, locale, now);
      }
      event = outcome.event;
    }

    if (event && before.status === 'done' && event.type !== 'BACK') {
      // The flow already ended: anything but a command starts it again.
      actor.stop();
      actor = this.start(inbound, locale, now);
      prefix.push({ key: 'common:startedAgain' });
      event = event.type === 'CHOOSE' || event.type === 'UNRECOGNISED' || event.type === 'TEXT' ? undefined : event;
    }

    if (event) actor.send(event);
    let snapshot = actor.getSnapshot() as AnyMachineSnapshot;
    if (snapshot.hasTag('busy')) {
      snapshot = (await waitFor(actor, (s) => !(s as AnyMachineSnapshot).hasTag('busy'), { timeout: BUSY_WAIT_MS }).catch(
        () => actor!.getSnapshot(),
      )) as AnyMachineSnapshot;
    }
    const view = flow.view(snapshot as never);
    const message = this.render(locale, [...prefix, ...view.lines], view);
    const persisted = actor.getPersistedSnapshot();
    actor.stop();

    const conversation: ConversationState = {
      key,
      channel: inbound.channel,
      flowId: flow.id,
      flowVersion: flow.version,
      snapshot: persisted,
      locale,
      turn: (record?.turn ?? 0) + 1,
      userId: inbound.user.id,
      parents: record?.parents ?? [],
      createdAt: record?.createdAt ?? now,
      updatedAt: now,
    };
    const transcript: TranscriptEntry[] = [];
    if (userSaid) transcript.push({ at: now, from: 'user', text: userSaid });
    transcript.push({ at: now, from: 'bot', text: message.paragraphs.join('\n\n') });
    await store.commitTurn({
      conversation,
      transcript,
      activityKey,
      userLocale,
      funnel: this.funnel(key, inbound, locale, snapshot, fresh || view.step !== beforeView.step, beforeView.step, view, event),
    });

    return {
      duplicate: false,
      locale,
      conversationKey: key,
      messages: [message],
      step: view.step,
      outcome: view.outcome,
      answered: event?.type === 'CHOOSE' ? answered : undefined,
      stale,
    };
  }

  /** Restores a stored conversation, or returns undefined (with an apology line) when it cannot be. */
  private restore(record: ConversationState, prefix: Line[]): AnyActorRef | undefined {
    const { flow, logger } = this.opts;
    if (record.flowId !== flow.id || record.flowVersion !== flow.version) {
      prefix.push({ key: 'common:restartedAfterUpdate' });
      return undefined;
    }
    const parsed = persistedSnapshot.safeParse(record.snapshot);
    if (parsed.success) {
      try {
        const actor = createActor(this.machine, { snapshot: record.snapshot as never }).start();
        flow.view(actor.getSnapshot() as never); // proves the stored state still exists in this flow
        return actor;
      } catch (err) {
        logger.warn({ err, conversation: record.key }, 'stored snapshot could not be restored');
      }
    } else {
      logger.warn({ conversation: record.key, issues: parsed.error.issues.length }, 'stored snapshot failed validation');
    }
    prefix.push({ key: 'common:restartedAfterError' });
    return undefined;
  }

  private start(inbound: Inbound, locale: Locale, now: string): AnyActorRef {
    const input: FlowInput = {
      locale,
      channel: inbound.channel,
      user: { id: inbound.user.id, name: inbound.user.name, email: inbound.user.email },
      mode: 'self',
      startedAt: now,
    };
    return createActor(this.machine, { input }).start();
  }

  private interpret(view: StepView, text: string, inbound: Inbound, locale: Locale): FlowEvent {
    if (view.expects === 'attachment' && inbound.attachments?.length) return { type: 'ATTACH', files: inbound.attachments };
    if (view.choices.length) {
      const { translator } = this.opts;
      const options = view.choices.map((c) => ({
        id: c.id,
        labels: (['en', 'uk'] as const).map((l) => translator.t(l, c.labelKey, c.params)),
      }));
      // The person's own language first: a label that exists in both is still found once.
      if (locale === 'uk') options.forEach((o) => o.labels.reverse());
      const id = recogniseChoice(this.vocab, text, options);
      if (id) return { type: 'CHOOSE', choice: id };
    }
    if (view.expects === 'text' && text) return { type: 'TEXT', text };
    return { type: 'UNRECOGNISED', text };
  }

  private command(
    command: Command,
    locale: Locale,
    view: StepView,
    prefix: Line[],
  ): { event?: FlowEvent; restart?: boolean; locale?: Locale } {
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
      case 'triage':
        prefix.push({ key: 'common:triageUnavailable' });
        return {};
    }
  }

  private funnel(
    key: string,
    inbound: Inbound,
    locale: Locale,
    snapshot: AnyMachineSnapshot,
    entered: boolean,
    answeredStep: string,
    view: StepView,
    event: FlowEvent | undefined,
  ): FunnelEvent[] {
    const at = this.clock().toISOString();
    const mode = ((snapshot.context as { mode?: 'self' | 'agent' }).mode ?? 'self') as 'self' | 'agent';
    const base = { at, conversationKey: key, channel: inbound.channel, locale, mode };
    const out: FunnelEvent[] = [];
    if (event?.type === 'CHOOSE') out.push({ ...base, kind: 'answer', step: answeredStep, value: event.choice });
    if (entered) out.push({ ...base, kind: 'step_entered', step: view.step });
    if (entered && view.outcome) out.push({ ...base, kind: 'outcome', step: view.step, value: view.outcome });
    return out;
  }

  render(locale: Locale, lines: Line[], view: StepView): RenderedMessage {
    const { t } = this.opts.translator;
    return {
      paragraphs: lines.map((l) => t(locale, l.key, l.params)).filter((p) => p.length > 0),
      choices: view.choices.map((c) => ({ id: c.id, label: t(locale, c.labelKey, c.params) })),
      links: view.links.map((l) => ({ label: t(locale, l.labelKey), url: l.url })),
      facts: view.facts.map((f) => ({ label: t(locale, f.labelKey), value: f.valueKey ? t(locale, f.valueKey) : (f.value ?? '') })),
      step: view.step,
      expects: view.expects,
    };
  }
}
