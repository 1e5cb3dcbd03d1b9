/**
 * What a bot's reply offers the person next, read the way a Teams client shows it: Adaptive Card
 * `Action.Execute`s and `Action.Submit`s, hero-card buttons, suggested actions and card inputs. The bench never hard-codes
 * the flow; the walker (./walker.ts) picks from what is read here.
 *
 * Two sources, one reading: the activities the bot posted to the fake connector for a conversation
 * (connector delivery, each with the id the connector gave it, which a press sends back as
 * `replyToId`), or the body of an `expectReplies` answer (no ids).
 */
import { z } from 'zod';

/** One thing the person could press, and the activity fields pressing it sends. */
export interface Offer {
  label: string;
  text?: string;
  value?: unknown;
  /** An Action.Execute button: pressing it sends an `adaptiveCard/action` invoke with this verb and `value` as its data. */
  verb?: string;
  /** Id of the activity (card) the offer is on, as the connector gave it; a press replies to it. */
  activityId?: string;
}

/** One text field a card asks the person to fill in. */
export interface CardInput {
  id: string;
  hint: string;
}

export interface ReplyReading {
  /** Messages read (typing indicators are not counted). */
  activities: number;
  /** Flow choices (global commands left out). */
  offers: Offer[];
  /** Global commands offered (restart, support, language): what a person back at an ended conversation can press. */
  commands: Offer[];
  inputs: CardInput[];
  /** All text the reply shows, for choosing what to type into a text step. */
  text: string;
  expectingInput: boolean;
  /** Connector ids of the messages read, in order (connector delivery only). */
  activityIds: string[];
}

export const NOTHING: ReplyReading = Object.freeze({ activities: 0, offers: [], commands: [], inputs: [], text: '', expectingInput: false, activityIds: [] });

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
export const expectedReplies = z.looseObject({ activities: z.array(z.unknown()) });

/** Global commands (language, restart, help) are offered on every step; a walk takes flow choices. */
export function isCommand(o: Offer): boolean {
  return /"cmd\./.test(JSON.stringify([o.value ?? null, o.text ?? null]));
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
      offers.push({ label, value: data ?? {}, ...(type === 'Action.Execute' ? { verb: typeof el.verb === 'string' ? el.verb : '' } : {}) });
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

/** Reads messages (with their connector ids, when there are any) into what the bot offered next. */
export function readActivities(list: readonly { id?: string; activity: unknown }[]): ReplyReading {
  const offers: Offer[] = [];
  const inputs: CardInput[] = [];
  const texts: string[] = [];
  const activityIds: string[] = [];
  let expectingInput = false;
  let count = 0;
  for (const item of list) {
    const parsed = activity.safeParse(item.activity);
    if (!parsed.success) continue;
    const a = parsed.data;
    if (a.type !== undefined && a.type !== 'message') continue; // typing indicators, events
    count += 1;
    if (item.id) activityIds.push(item.id);
    const own: Offer[] = [];
    if (a.text) texts.push(a.text);
    if (a.inputHint === 'expectingInput') expectingInput = true;
    for (const s of a.suggestedActions?.actions ?? []) {
      const o = fromBotAction(s);
      if (o) own.push(o);
    }
    for (const att of a.attachments ?? []) {
      const content = att.content as Record<string, unknown> | undefined;
      if (att.contentType === 'application/vnd.microsoft.card.adaptive') walkCard(content, own, inputs, texts);
      else if (content && Array.isArray(content.buttons)) {
        for (const b of content.buttons) {
          const parsedAction = action.safeParse(b);
          const o = parsedAction.success ? fromBotAction(parsedAction.data) : undefined;
          if (o) own.push(o);
        }
        if (typeof content.text === 'string') texts.push(content.text);
      }
    }
    for (const o of own) offers.push(item.id ? { ...o, activityId: item.id } : o);
  }
  return {
    activities: count,
    offers: offers.filter((o) => !isCommand(o)),
    commands: offers.filter(isCommand),
    inputs,
    text: texts.join('\n'),
    expectingInput,
    activityIds,
  };
}

/** Reads an `expectReplies` body into what the bot offered next. */
export function readReply(body: unknown): ReplyReading {
  const parsed = expectedReplies.safeParse(body);
  if (!parsed.success) return NOTHING;
  return readActivities(parsed.data.activities.map((a) => ({ activity: a })));
}

/**
 * What identifies a press across conversations: the text and the submit data without the words the
 * card showed (`prompt`, `label`), which can hold the person's own answers (an email typed earlier).
 */
export function pressKey(o: Pick<Offer, 'text' | 'value'>): string {
  const value = o.value && typeof o.value === 'object' && !Array.isArray(o.value) ? { ...(o.value as Record<string, unknown>) } : o.value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    delete (value as Record<string, unknown>).prompt;
    delete (value as Record<string, unknown>).label;
  }
  return JSON.stringify([o.text ?? null, value ?? null]);
}

/** A reading kept for later (a stored conversation a person may come back to): only what a press needs. */
export function keepForLater(r: ReplyReading): ReplyReading {
  return { ...r, text: r.expectingInput ? r.text : '' };
}
