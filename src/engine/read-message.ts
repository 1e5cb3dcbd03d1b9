/**
 * The recognising phase of a turn: what the person's message means at the step they stand at. A
 * button press, a command, an intent's answer (case status), one of the step's options (exact paths
 * first, then the step's trained model), a clarifying question between two, small talk said back,
 * and answers to the questions after this one in the same message.
 */
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import type { FlowEvent, Line, Locale, StepView } from '../../dialogs/flow';
import type { Translator } from '../i18n';
import type { Recogniser, SmallTalk } from '../nlu/recogniser';
import type { ConversationState } from '../storage/store';
import { answersAhead, canTakeFromMessage, planMessageAnswers, type MessagePlan, type TakenAnswer } from './answers-in-message';
import { pendingClarification, type Clarification } from './clarification';
import type { Running } from './flow-actors';
import { matchCommand, type Command } from './recognizer';
import { asideLine, freshAsideLine, type Aside } from './render';
import type { Intent, TurnScope } from './scope';
import { cutToReadable, isTooLong, MAX_MESSAGE_CHARS } from './text';
import type { Inbound, TurnResult } from './types';

export interface ReaderDeps {
  translator: Translator;
  recogniser: Recogniser;
  intents: Intent[];
  interceptors?: Interceptor[];
}

/**
 * Reads a message before anything else does (commands, intents, buttons, files): a feature that owns
 * the conversation for a while (a live chat with a support engineer, src/handoff/) takes it there.
 * Returning lines means "taken": they are said above the step and `event`, if any, is sent to the
 * flow instead of what the message would mean. It may also add to the turn's commit and return
 * nothing, and the message is read as usual.
 */
export type Interceptor = (at: {
  scope: TurnScope;
  /** The running flow and the step it waits at. */
  flowId: string;
  step: string;
  /** The flows under it (outermost first) and its own snapshot: where the conversation stands. */
  stack: { flowId: string; snapshot: unknown }[];
}) => Promise<{ lines: Line[]; event?: FlowEvent } | undefined>;

/** Where the message arrives. */
export interface ReadContext {
  inbound: Inbound;
  locale: Locale;
  /** No run was stored or restorable: this turn starts one. */
  fresh: boolean;
  record?: ConversationState;
  running: Running;
  before: AnyMachineSnapshot;
  beforeView: StepView;
  scope: TurnScope;
  /** Lines said above the step this turn; reading adds its own (a stale press, small talk said back). */
  prefix: Line[];
}

export interface Reading {
  event?: FlowEvent;
  /** A button of the step was pressed: what was chosen, for retiring the card. */
  answered?: TurnResult['answered'];
  /** The press came from an older card. */
  stale: boolean;
  command?: Command;
  /** Two likely answers: the step is asked again with just those two (./clarification.ts). */
  clarification?: Clarification;
  /** Said back instead of passing the message on (small talk, an option number the step lacks). */
  aside?: Aside;
  /** What the transcript keeps of the message. */
  userSaid: string;
  /** Answers to the questions after this one: `taken` are sent after `event`, `ahead` kept for later. */
  taken: TakenAnswer[];
  ahead: TakenAnswer[];
  /** This message had answers of its own to later questions. */
  planned: boolean;
}

export class MessageReader {
  constructor(private readonly deps: ReaderDeps) {}

  async read(ctx: ReadContext): Promise<Reading> {
    const { translator } = this.deps;
    const { inbound, locale, fresh, record, running, before, beforeView, prefix } = ctx;
    const userText = inbound.text?.trim() ?? '';
    const r: Reading = { stale: false, userSaid: userText, taken: [], ahead: [], planned: false };
    // An event says nothing: the turn starts the event's flow (./proactive.ts).
    if (inbound.kind === 'event') return r;
    if (inbound.kind !== 'greeting' && (await this.intercepted(ctx, r))) return r;

    if (isTooLong(inbound.text)) {
      // Not read at all (no command, no answer): the person is asked for a shorter message, and the
      // question stands. The transcript keeps the message cut to what the bot reads.
      prefix.push({ key: 'common:tooLong', params: { max: new Intl.NumberFormat(locale === 'uk' ? 'uk-UA' : 'en-US').format(MAX_MESSAGE_CHARS) } });
      r.userSaid = cutToReadable(userText);
    } else if (inbound.choice) {
      const id = inbound.choice.id;
      if (id.startsWith('cmd.')) {
        r.command = id.slice(4) as Command;
      } else {
        const choice = beforeView.choices.find((c) => c.id === id);
        if (!choice || (inbound.choice.step && inbound.choice.step !== beforeView.step)) {
          r.stale = true;
          prefix.push({ key: 'common:stale' });
        } else {
          r.event = { type: 'CHOOSE', choice: id };
          const label = translator.t(locale, choice.labelKey, choice.params);
          r.answered = { step: beforeView.step, choiceId: id, label };
          r.userSaid = label;
        }
      }
    } else if (inbound.kind === 'greeting') {
      if (!fresh) prefix.push({ key: 'common:welcomeBack' });
    } else if (userText || inbound.attachments?.length) {
      r.command = userText ? this.commandIn(userText, locale) : undefined;
      // Intents see files too (a file sent while a case waits for the person is added to it).
      const handledByIntent = !r.command ? await this.byIntent(userText, ctx.scope, prefix) : false;
      if (!r.command && !handledByIntent) {
        const asked = !fresh && record?.flowId === running.flow.id ? pendingClarification(record.snapshot, beforeView.step) : undefined;
        const how: { exact?: boolean } = {};
        const understood = this.interpret(running.flow.id, beforeView, userText, inbound, locale, asked, how);
        const talk = this.smallTalkIn(understood, userText, locale);
        if (talk) r.aside = { kind: 'smallTalk', talk };
        else if (understood.type === 'CLARIFY') r.clarification = { step: beforeView.step, options: understood.options };
        else if (understood.type === 'OUT_OF_RANGE') r.aside = { kind: 'outOfRange', n: understood.n };
        else r.event = understood;
        if (r.aside) {
          // Said back, then the question as it stood (a clarifying question still pending, too).
          if (asked?.length === 2) r.clarification = { step: beforeView.step, options: [asked[0]!, asked[1]!] };
          const options = r.clarification?.options.length ?? beforeView.choices.length;
          const line = fresh ? freshAsideLine(r.aside) : asideLine(r.aside, beforeView, options, translator, locale);
          if (line) prefix.push(line);
        }
        // The message may answer the questions after this one too (./answers-in-message.ts).
        // A whole label or an option number (a button's text) is one answer, nothing more to read.
        const plan = !r.aside && !how.exact && before.status === 'active' ? this.answersInMessage(running, before, beforeView, userText, locale, r.event) : undefined;
        if (plan?.kind === 'clarify') {
          r.clarification = { step: beforeView.step, options: plan.options };
          r.event = undefined;
        } else if (plan) {
          r.clarification = undefined;
          r.event = plan.events[0];
          r.taken = plan.taken;
        }
        r.planned = plan !== undefined;
        r.ahead = plan?.ahead ?? [];
      }
      // A first message that answers nothing ("hi") is a greeting, not a miss.
      if (fresh && r.event?.type === 'UNRECOGNISED') r.event = undefined;
    } else if (!fresh) {
      // An empty message (a press with no usable value, an unsupported attachment): re-ask.
      prefix.push({ key: 'common:notUnderstood' });
    }
    return r;
  }

  /** Of answers an earlier message gave, those the flow now asks for one after another. */
  answersAhead(running: Running, answers: TakenAnswer[], locale: Locale): TakenAnswer[] {
    const { translator } = this.deps;
    return answersAhead({
      flow: running.flow,
      machine: machineOf(running),
      snapshot: running.actor.getSnapshot() as AnyMachineSnapshot,
      answers,
      canTake: (step, choice) => canTakeFromMessage(translator, locale, running.flow.id, step, choice),
    });
  }

  /** Whether an interceptor took the message: its lines are said, its event (if any) becomes the reading's. */
  private async intercepted(ctx: ReadContext, r: Reading): Promise<boolean> {
    const stack = [...(ctx.record?.parents ?? []), { flowId: ctx.running.flow.id, snapshot: ctx.before }];
    for (const intercept of this.deps.interceptors ?? []) {
      const taken = await intercept({ scope: ctx.scope, flowId: ctx.running.flow.id, step: ctx.beforeView.step, stack });
      if (!taken) continue;
      ctx.prefix.push(...taken.lines);
      r.event = taken.event;
      return true;
    }
    return false;
  }

  /** The first intent that answers the message adds its lines; the flow then does not move. */
  private async byIntent(text: string, scope: TurnScope, prefix: Line[]): Promise<boolean> {
    for (const intent of this.deps.intents) {
      const lines = await intent(text, scope);
      if (lines) {
        prefix.push(...lines);
        return true;
      }
    }
    return false;
  }

  /**
   * The command a message names: spelled exactly, or with a typo unless the message is small talk
   * ("who is this" is not a typo of "what is this").
   */
  private commandIn(text: string, locale: Locale): Command | undefined {
    const match = matchCommand(this.deps.recogniser.vocab, text);
    if (!match) return undefined;
    return match.exact || !this.deps.recogniser.smallTalk(text, locale) ? match.command : undefined;
  }

  /**
   * Small talk ("hi", "thx", "хвилинку", "ти бот?") in a message that answers nothing at the step: not
   * understood as an option, only unclearly (no clarifying question to "who am I talking to?"), or
   * typed where the step waits for text (no order number is "thanks").
   */
  private smallTalkIn(understood: { type: string }, text: string, locale: Locale): SmallTalk | undefined {
    if (!text || !['UNRECOGNISED', 'TEXT', 'CLARIFY'].includes(understood.type)) return undefined;
    return this.deps.recogniser.smallTalk(text, locale);
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
      const { translator } = this.deps;
      // The person's own language first: a label that exists in both is still found once.
      const languages: Locale[] = locale === 'uk' ? ['uk', 'en'] : ['en', 'uk'];
      const options = view.choices.map((c) => ({ id: c.id, labels: languages.map((l) => translator.t(l, c.labelKey, c.params)) }));
      const understood = this.deps.recogniser.recognise({ flow: flowId, step: view.step, locale, text, options, clarifying });
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

  /**
   * What a message of several statements answers beyond the question asked (./answers-in-message.ts):
   * the events to send instead of `understood`, a clarifying question, or nothing to change.
   */
  private answersInMessage(running: Running, at: AnyMachineSnapshot, asked: StepView, text: string, locale: Locale, understood: FlowEvent | undefined): MessagePlan | undefined {
    if (!text || asked.expects !== 'choice') return undefined;
    const flowId = running.flow.id;
    const scan = this.deps.recogniser.scanMessage(flowId, text, locale, asked.step);
    if (!scan) return undefined;
    const { translator } = this.deps;
    return planMessageAnswers({
      flow: running.flow,
      machine: machineOf(running),
      snapshot: at,
      asked,
      understood: understood?.type === 'CHOOSE' ? understood.choice : undefined,
      scan,
      canTake: (step, choice) => canTakeFromMessage(translator, locale, flowId, step, choice),
    });
  }
}

/** The running actor's own machine (with the runtime's actors), whose snapshots these are. */
function machineOf(running: Running): AnyStateMachine {
  return (running.actor as unknown as { logic: AnyStateMachine }).logic;
}
