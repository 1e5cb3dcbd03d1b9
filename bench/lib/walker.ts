/**
 * Conversations the load harness walks. After every reply the walker reads what the bot offered
 * (./reading.ts) and answers the way a Teams client would: it presses one offer (seeded random),
 * fills a card's inputs, or types where the card expects text. When a reply offers nothing, the
 * conversation has reached an outcome.
 *
 * One workload for every bot (issue 19): a walk is recorded as a script (its opener and each press,
 * as sent), and the measured conversations replay scripts. The product bot `follow`s one (it presses
 * the recorded choice among what its card offers now, and walks on at random if the card does not
 * offer it: counted as off-script); the echo bot gets it `verbatim` (the same activities; it answers
 * each with one reply), so both see the same openers, conversation lengths and message mix.
 *
 * A returning person (scale phase) is a one-turn conversation on a stored conversation: a press of
 * a button its last card offered, a restart command on an ended one, or a "hi" when nothing is known.
 */
import { NOTHING, pressKey, type ReplyReading } from './reading';

export type Delivery = 'connector' | 'expectReplies';

export interface ConversationOptions {
  runId: string;
  channelId: string;
  serviceUrl: string;
  /** Turns after which a conversation is left and a new one starts (a person gives up). */
  maxTurns: number;
  /** Start with the conversationUpdate Teams sends when the bot is added; else with a message. */
  opener: 'conversationUpdate' | 'message';
  /** Replies through the connector (Teams' normal path) or in the HTTP response. */
  delivery: Delivery;
}

export type StepKind = 'open' | 'press' | 'form' | 'typed' | 'restart' | 'hello';

export interface ScriptStep {
  kind: StepKind;
  /** The opener's activity type. */
  type?: 'conversationUpdate' | 'message';
  label?: string;
  text?: string;
  value?: unknown;
  /** An Action.Execute press: sent as an `adaptiveCard/action` invoke with this verb, `value` as its data. */
  verb?: string;
  /** `pressKey` of the press, to find it among the offers of another run of the same walk. */
  key?: string;
}

export interface WalkScript {
  /** The number of the conversation it was recorded from (recorded walks are kept in that order). */
  n?: number;
  locale: string;
  steps: ScriptStep[];
}

export interface Replay {
  script: WalkScript;
  mode: 'follow' | 'verbatim';
}

/** Who a conversation is, when it is not a new `bench-<run>-<n>` one (a stored copy). */
export interface Identity {
  id: string;
  userId: string;
}

export interface WalkExtras {
  replay?: Replay;
  identity?: Identity;
  /** A stored conversation's last reply: the walk continues from there (one returning turn). */
  last?: ReplyReading;
  /** The activity id of a returning turn (unique: the stored conversation's own ids are taken). */
  activityId?: string;
}

/** What a person would type into a text step, judged from the field or the question. */
export function typedAnswer(hint: string, n: number): string {
  const h = hint.toLowerCase();
  if (/e-?mail|пошт/.test(h)) return `bench.user${n}@example.com`;
  if (/subscription|підписк|sub-/.test(h)) return `Sub${String(100000 + (n % 900000))}`;
  if (/order|замовлен/.test(h)) return String(800000000 + (n % 100000000));
  if (/name|ім'я|імʼя/.test(h)) return `Bench User ${n}`;
  return String(800000000 + (n % 100000000));
}

/** English and Ukrainian speakers, as the partners are. */
export const localeOf = (n: number): string => (n % 3 === 0 ? 'uk-UA' : 'en-US');

/** One conversation's client-side state: the last reply it got decides its next activity. */
export class WalkedConversation {
  readonly id: string;
  readonly userId: string;
  readonly locale: string;
  readonly returning: boolean;
  turns = 0;
  last: ReplyReading | undefined;
  readonly path: string[] = [];
  readonly steps: ScriptStep[] = [];
  /** Turns of a followed script where the bot did not offer the recorded step. */
  offScript = 0;
  done = false;
  private readonly limit: number;

  constructor(
    readonly n: number,
    private readonly opts: ConversationOptions,
    private readonly random: () => number,
    private readonly extras: WalkExtras = {},
  ) {
    this.id = extras.identity?.id ?? `bench-${opts.runId}-${n}`;
    this.userId = extras.identity?.userId ?? `${this.id}-user`;
    this.locale = extras.replay?.script.locale ?? localeOf(n);
    this.returning = extras.last !== undefined;
    this.last = extras.last;
    // A replay is as long as the walk it replays (whatever maxTurns was then); a return is one turn.
    this.limit = this.returning ? 1 : (extras.replay?.script.steps.length ?? opts.maxTurns);
  }

  private base(type: string, replyToId?: string): Record<string, unknown> {
    return {
      type,
      id: this.extras.activityId ?? `${this.id}-a${this.turns}`,
      timestamp: new Date().toISOString(),
      channelId: this.opts.channelId,
      serviceUrl: this.opts.serviceUrl,
      from: { id: this.userId, name: `Bench User ${this.n}`, aadObjectId: `00000000-0000-4000-8000-${String(this.n).padStart(12, '0')}` },
      recipient: { id: 'bench-bot', name: 'Provisioning Contact Bot' },
      conversation: { id: this.id, conversationType: 'personal', tenantId: 'bench-tenant' },
      channelData: { tenant: { id: 'bench-tenant' } },
      locale: this.locale,
      ...(replyToId ? { replyToId } : {}),
      ...(this.opts.delivery === 'expectReplies' ? { deliveryMode: 'expectReplies' } : {}),
    };
  }

  private message(step: ScriptStep, replyToId?: string): Record<string, unknown> {
    this.steps.push(step);
    this.path.push(step.label ?? step.kind);
    if (step.verb !== undefined) {
      // Teams' Universal Actions: the press is an invoke; its HTTP answer is what the card becomes.
      return { ...this.base('invoke', replyToId), name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: step.verb, data: step.value ?? {} }, trigger: 'manual' } };
    }
    return {
      ...this.base('message', replyToId),
      ...(step.text !== undefined ? { text: step.text } : {}),
      ...(step.value !== undefined ? { value: step.value } : {}),
    };
  }

  private open(type: 'conversationUpdate' | 'message'): Record<string, unknown> {
    this.steps.push({ kind: 'open', type });
    this.path.push('(start)');
    if (type === 'conversationUpdate') return { ...this.base('conversationUpdate'), membersAdded: [{ id: 'bench-bot', name: 'Provisioning Contact Bot' }] };
    return { ...this.base('message'), text: this.locale.startsWith('uk') ? 'привіт' : 'hi' };
  }

  /** The next activity, or undefined when the conversation is over. */
  next(): Record<string, unknown> | undefined {
    if (this.done || this.turns >= this.limit) return undefined;
    const recorded = this.extras.replay?.script.steps[this.turns];
    if (!this.last) return this.open(recorded?.type ?? this.opts.opener);
    if (recorded && this.extras.replay?.mode === 'verbatim') {
      // The echo bot offers nothing to choose from: the recorded activity goes as it was.
      if (recorded.kind === 'open') return this.open(recorded.type ?? this.opts.opener);
      return this.message(recorded, recorded.kind === 'press' || recorded.kind === 'form' ? this.last.activityIds.at(-1) : undefined);
    }
    const chosen = this.choose(this.last, recorded);
    // The bot went another way than in the recorded walk (it ended early, or asked something else).
    if (recorded && (!chosen || chosen.kind !== recorded.kind)) this.offScript += 1;
    return chosen?.activity;
  }

  private choose(last: ReplyReading, recorded: ScriptStep | undefined): { kind: StepKind; activity: Record<string, unknown> } | undefined {
    const { offers, inputs, text, expectingInput, commands } = last;
    if (inputs.length) {
      // A form: fill every field, then press its (first) submit.
      const filled = Object.fromEntries(inputs.map((i) => [i.id, typedAnswer(i.hint, this.n)]));
      const submit = offers[0];
      const value = { ...((submit?.value as Record<string, unknown> | undefined) ?? {}), ...filled };
      const step: ScriptStep = {
        kind: 'form',
        label: `form:${inputs.map((i) => i.id).join('+')}`,
        value,
        ...(submit?.text ? { text: submit.text } : {}),
        ...(submit?.verb !== undefined ? { verb: submit.verb } : {}),
      };
      return { kind: 'form', activity: this.message(step, submit?.activityId) };
    }
    if (offers.length) {
      let pick = recorded?.kind === 'press' ? offers.find((o) => pressKey(o) === recorded.key) : undefined;
      if (!pick && recorded?.kind === 'press') this.offScript += 1;
      pick ??= offers[Math.floor(this.random() * offers.length)]!;
      const step: ScriptStep = {
        kind: 'press',
        label: pick.label,
        key: pressKey(pick),
        ...(pick.text !== undefined ? { text: pick.text } : {}),
        ...(pick.value !== undefined ? { value: pick.value } : {}),
        ...(pick.verb !== undefined ? { verb: pick.verb } : {}),
      };
      return { kind: 'press', activity: this.message(step, pick.activityId) };
    }
    if (expectingInput) return { kind: 'typed', activity: this.message({ kind: 'typed', label: 'typed', text: typedAnswer(text, this.n) }) };
    if (!this.returning) return undefined; // nothing offered: an outcome was reached
    // Back at an ended conversation: start over from its card, or just say hello.
    const restart = commands.find((c) => /cmd\.restart/.test(JSON.stringify(c.value ?? c.text ?? ''))) ?? commands[0];
    if (restart) {
      const step: ScriptStep = {
        kind: 'restart',
        label: restart.label,
        ...(restart.text !== undefined ? { text: restart.text } : {}),
        ...(restart.value !== undefined ? { value: restart.value } : {}),
        ...(restart.verb !== undefined ? { verb: restart.verb } : {}),
      };
      return { kind: 'restart', activity: this.message(step, restart.activityId) };
    }
    return { kind: 'hello', activity: this.message({ kind: 'hello', label: 'hello', text: this.locale.startsWith('uk') ? 'привіт' : 'hi' }) };
  }

  accept(reply: ReplyReading): void {
    this.turns += 1;
    this.last = reply;
    if (reply.activities === 0) this.done = true;
  }

  /** This walk as a script another conversation can replay. */
  script(): WalkScript {
    return { n: this.n, locale: this.locale, steps: [...this.steps] };
  }

  /** How the conversation ended: the start of the last reply's text (an outcome), or why it stopped. */
  ending(): string {
    if (this.done) return 'error or empty reply';
    const outcome = this.last && !this.last.offers.length && !this.last.inputs.length && !this.last.expectingInput;
    if (this.turns >= this.limit && !outcome) return this.extras.replay ? 'end of script (left mid-walk)' : 'max turns';
    return (this.last?.text ?? '').replace(/\s+/g, ' ').slice(0, 70);
  }

  /** The kind of the last step sent (returning turns are reported by kind). */
  lastKind(): StepKind | undefined {
    return this.steps.at(-1)?.kind;
  }
}

export { NOTHING };
