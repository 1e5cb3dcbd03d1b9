/**
 * Conversations the load harness walks. The bench never hard-codes the flow: after every reply it
 * reads what the bot offered (Adaptive Card `Action.Submit`s, hero-card buttons, suggested actions,
 * card inputs) and answers the way a Teams client would, picking one offer at random (seeded). When
 * a reply offers nothing, the conversation has reached an outcome and a new one starts.
 */
import { z } from 'zod';

/** One thing the person could press, and the activity fields pressing it sends. */
export interface Offer {
  label: string;
  text?: string;
  value?: unknown;
}

/** One text field a card asks the person to fill in. */
export interface CardInput {
  id: string;
  hint: string;
}

export interface ReplyReading {
  activities: number;
  offers: Offer[];
  inputs: CardInput[];
  /** All text the reply shows, for choosing what to type into a text step. */
  text: string;
  expectingInput: boolean;
}

const action = z.looseObject({
  type: z.string().optional(),
  title: z.string().optional(),
  value: z.unknown().optional(),
  text: z.string().optional(),
  data: z.unknown().optional(),
});
const activity = z.looseObject({
  type: z.string().optional(),
  text: z.string().optional().nullable(),
  inputHint: z.string().optional().nullable(),
  suggestedActions: z.looseObject({ actions: z.array(action).optional() }).optional().nullable(),
  attachments: z.array(z.looseObject({ contentType: z.string(), content: z.unknown().optional() })).optional().nullable(),
});
export const expectedReplies = z.looseObject({ activities: z.array(activity) });

/** Global commands (language, restart, help) are offered on every step; a walk takes flow choices. */
function isCommand(o: Offer): boolean {
  const probe = JSON.stringify([o.value ?? null, o.text ?? null]);
  return /"cmd\./.test(probe) || /"choice":"cmd\./.test(probe);
}

function fromBotAction(a: z.infer<typeof action>): Offer | undefined {
  const type = (a.type ?? '').toLowerCase();
  const label = a.title ?? a.text ?? String(a.value ?? '');
  if (type === 'imback') return { label, text: String(a.value ?? a.title ?? '') };
  if (type === 'postback' || type === 'messageback') {
    const value = typeof a.value === 'string' ? safeJson(a.value) : a.value;
    return { label, ...(a.text ? { text: a.text } : {}), ...(value !== undefined ? { value } : {}) };
  }
  return undefined; // openUrl, call, signin: not a step of the flow
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Walks an Adaptive Card element tree collecting submit actions and inputs (ActionSets, containers, columns). */
function walkCard(node: unknown, offers: Offer[], inputs: CardInput[], texts: string[]): void {
  if (Array.isArray(node)) {
    for (const n of node) walkCard(n, offers, inputs, texts);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const el = node as Record<string, unknown>;
  const type = typeof el.type === 'string' ? el.type : '';
  if (type === 'Action.Submit' || type === 'Action.Execute') {
    const data = el.data as Record<string, unknown> | undefined;
    const teams = data && typeof data.msteams === 'object' ? (data.msteams as Record<string, unknown>) : undefined;
    const label = String(el.title ?? '');
    if (teams && (teams.type === 'imBack' || teams.type === 'messageBack')) {
      const { msteams: _drop, ...rest } = data!;
      offers.push({ label, text: String(teams.value ?? teams.text ?? label), ...(Object.keys(rest).length ? { value: rest } : {}) });
    } else {
      offers.push({ label, value: data ?? {} });
    }
  } else if (type.startsWith('Input.') && typeof el.id === 'string') {
    inputs.push({ id: el.id, hint: [el.label, el.placeholder, el.id].filter((x) => typeof x === 'string').join(' ') });
  } else if (type === 'TextBlock' && typeof el.text === 'string') {
    texts.push(el.text);
  }
  for (const [k, v] of Object.entries(el)) {
    if (k === 'data' || k === 'selectAction') continue;
    if (v && typeof v === 'object') walkCard(v, offers, inputs, texts);
  }
}

/** Reads an `expectReplies` body into what the bot offered next. */
export function readReply(body: unknown): ReplyReading {
  const parsed = expectedReplies.safeParse(body);
  if (!parsed.success) return { activities: 0, offers: [], inputs: [], text: '', expectingInput: false };
  const offers: Offer[] = [];
  const inputs: CardInput[] = [];
  const texts: string[] = [];
  let expectingInput = false;
  for (const a of parsed.data.activities) {
    if (a.text) texts.push(a.text);
    if (a.inputHint === 'expectingInput') expectingInput = true;
    for (const s of a.suggestedActions?.actions ?? []) {
      const o = fromBotAction(s);
      if (o) offers.push(o);
    }
    for (const att of a.attachments ?? []) {
      const content = att.content as Record<string, unknown> | undefined;
      if (att.contentType === 'application/vnd.microsoft.card.adaptive') walkCard(content, offers, inputs, texts);
      else if (content && Array.isArray(content.buttons)) {
        for (const b of content.buttons) {
          const parsedAction = action.safeParse(b);
          const o = parsedAction.success ? fromBotAction(parsedAction.data) : undefined;
          if (o) offers.push(o);
        }
        if (typeof content.text === 'string') texts.push(content.text);
      }
    }
  }
  return { activities: parsed.data.activities.length, offers: offers.filter((o) => !isCommand(o)), inputs, text: texts.join('\n'), expectingInput };
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

export interface ConversationOptions {
  runId: string;
  channelId: string;
  serviceUrl: string;
  /** Turns after which a conversation is left and a new one starts (a person gives up). */
  maxTurns: number;
  /** Start with the conversationUpdate Teams sends when the bot is added; else with a message. */
  opener: 'conversationUpdate' | 'message';
  /** For the echo reference, which offers nothing: keep sending messages up to maxTurns. */
  keepTalking?: boolean;
}

/** One conversation's client-side state: the last reply it got decides its next activity. */
export class WalkedConversation {
  readonly id: string;
  readonly userId: string;
  readonly locale: string;
  turns = 0;
  last: ReplyReading | undefined;
  readonly path: string[] = [];
  done = false;

  constructor(
    readonly n: number,
    private readonly opts: ConversationOptions,
    private readonly random: () => number,
  ) {
    this.id = `bench-${opts.runId}-${n}`;
    this.userId = `bench-${opts.runId}-${n}-user`;
    // English and Ukrainian speakers, as the partners are.
    this.locale = n % 3 === 0 ? 'uk-UA' : 'en-US';
  }

  private base(type: string): Record<string, unknown> {
    return {
      type,
      id: `${this.id}-a${this.turns}`,
      timestamp: new Date().toISOString(),
      channelId: this.opts.channelId,
      serviceUrl: this.opts.serviceUrl,
      from: { id: this.userId, name: `Bench User ${this.n}`, aadObjectId: `00000000-0000-4000-8000-${String(this.n).padStart(12, '0')}` },
      recipient: { id: 'bench-bot', name: 'Provisioning Contact Bot' },
      conversation: { id: this.id, conversationType: 'personal', tenantId: 'bench-tenant' },
      channelData: { tenant: { id: 'bench-tenant' } },
      locale: this.locale,
      deliveryMode: 'expectReplies',
    };
  }

  /** The next activity, or undefined when the conversation is over. */
  next(): Record<string, unknown> | undefined {
    if (this.done) return undefined;
    const turn = this.turns;
    if (turn >= this.opts.maxTurns) return undefined;
    if (!this.last) {
      this.path.push('(start)');
      if (this.opts.opener === 'conversationUpdate') {
        return { ...this.base('conversationUpdate'), membersAdded: [{ id: 'bench-bot', name: 'Provisioning Contact Bot' }] };
      }
      return { ...this.base('message'), text: this.locale.startsWith('uk') ? 'привіт' : 'hi' };
    }
    const { offers, inputs, text, expectingInput } = this.last;
    if (inputs.length) {
      // A form: fill every field, then press its (first) submit.
      const filled = Object.fromEntries(inputs.map((i) => [i.id, typedAnswer(i.hint, this.n)]));
      const submit = offers[0];
      this.path.push(`form:${inputs.map((i) => i.id).join('+')}`);
      const value = { ...((submit?.value as Record<string, unknown> | undefined) ?? {}), ...filled };
      return { ...this.base('message'), value, ...(submit?.text ? { text: submit.text } : {}) };
    }
    if (offers.length) {
      const pick = offers[Math.floor(this.random() * offers.length)]!;
      this.path.push(pick.label);
      return {
        ...this.base('message'),
        ...(pick.text !== undefined ? { text: pick.text } : {}),
        ...(pick.value !== undefined ? { value: pick.value } : {}),
      };
    }
    if (this.opts.keepTalking) {
      this.path.push('text');
      return { ...this.base('message'), text: `message ${turn}` };
    }
    if (expectingInput) {
      const answer = typedAnswer(text, this.n);
      this.path.push('typed');
      return { ...this.base('message'), text: answer };
    }
    return undefined; // nothing offered: an outcome was reached
  }

  accept(reply: ReplyReading): void {
    this.turns += 1;
    this.last = reply;
    if (reply.activities === 0) this.done = true;
  }
}
