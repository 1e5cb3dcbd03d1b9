/**
 * The Direct Line 3.0 subset Web Chat's own client (botframework-directlinejs, `webSocket: false`)
 * speaks, validated at the edge. Only the fields the bot uses are kept from what a browser sends.
 */
import { z } from 'zod';
import { cutToReadable, hasControlCharacter, MAX_MESSAGE_CHARS, stripControlCharacters } from '../../engine/text';

export interface ChannelAccount {
  id: string;
  name?: string;
  role?: 'user' | 'bot';
}

export interface DirectLineAttachment {
  contentType: string;
  contentUrl?: string;
  content?: unknown;
  name?: string;
  thumbnailUrl?: string;
}

/** An activity as it is stored in the log and sent to the browser. */
export interface DirectLineActivity {
  type: string;
  id: string;
  timestamp: string;
  channelId: string;
  conversation: { id: string };
  from: ChannelAccount;
  recipient?: ChannelAccount;
  text?: string;
  textFormat?: string;
  locale?: string;
  name?: string;
  value?: unknown;
  attachments?: DirectLineAttachment[];
  attachmentLayout?: string;
  suggestedActions?: unknown;
  inputHint?: string;
  replyToId?: string;
  entities?: unknown[];
  channelData?: Record<string, unknown>;
  [extra: string]: unknown;
}

/** Names of the events the page sends; the bot side turns them into the engine's commands. */
export const PAGE_EVENTS = { setLanguage: 'webchat/setLanguage' } as const;

const shortString = (max: number) => z.string().max(max);
/** An id, a locale, a name of ours: a control character in it is refused (400; issue 15, item 3). */
const idString = (max: number) => shortString(max).refine((s) => !hasControlCharacter(s), 'a control character');
/** What a person wrote or is called: control characters (but tab and line breaks) are dropped. */
const writtenString = (max: number) => shortString(max).transform(stripControlCharacters);

/**
 * Size caps on what a browser may post. The page's own activities stay far below them: typed text,
 * a card press (`{ choice, step, prompt ≤ 4000 chars, label }`, about 10 KB in Ukrainian), the
 * language switch. Anything larger is answered 413 and not stored (issue 14, item 5), but for a
 * message's text: a longer text is kept cut to `textChars` (with `…`), and the bot answers that it is
 * too long (issue 15, item 5).
 */
export const ACTIVITY_LIMITS = {
  /** The whole activity as posted (UTF-8 bytes of its JSON, its text counted as cut): room for the largest text and value together. */
  activityBytes: 64 * 1024,
  /** The bound the bot reads of a message's text (src/engine/text.ts). */
  textChars: MAX_MESSAGE_CHARS,
  /** Event names are short identifiers (`webchat/setLanguage`). */
  nameChars: 128,
  /** UTF-8 bytes of the value's JSON: a pressed card's submit data with its longest prompt fits. */
  valueBytes: 16 * 1024,
} as const;

/** Whether a NUL is in any string (or key) of a parsed JSON value. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (typeof value === 'object' && value !== null) return Object.entries(value).some(([k, v]) => k.includes('\0') || holdsNul(v));
  return false;
}

export function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * Which cap a posted activity exceeds, if any; `raw` is the body's text when the server kept it. A
 * text over `textChars` is no reason: it is kept cut (`inboundActivity`), and counts as cut here.
 */
export function oversizedField(body: unknown, raw?: unknown): 'activity' | 'name' | 'value' | undefined {
  const text = typeof body === 'object' && body !== null ? (body as { text?: unknown }).text : undefined;
  const bytes =
    typeof text === 'string' && text.length > ACTIVITY_LIMITS.textChars
      ? jsonBytes({ ...(body as object), text: cutToReadable(text) })
      : typeof raw === 'string'
        ? Buffer.byteLength(raw, 'utf8')
        : jsonBytes(body);
  if (bytes > ACTIVITY_LIMITS.activityBytes) return 'activity';
  if (typeof body !== 'object' || body === null) return undefined;
  const { name, value } = body as { name?: unknown; value?: unknown };
  if (typeof name === 'string' && name.length > ACTIVITY_LIMITS.nameChars) return 'name';
  if (jsonBytes(value) > ACTIVITY_LIMITS.valueBytes) return 'value';
  return undefined;
}

/** Body of `POST /conversations`: Web Chat's client sends `{ user: { id }, locale }`, the page the same. */
export const startConversationBody = z
  .looseObject({
    user: z.looseObject({ id: idString(128).optional(), name: writtenString(128).optional() }).optional(),
    locale: idString(20).optional(),
  })
  .optional();

/** What a browser may post to `POST /conversations/{id}/activities` (or in the `activity` part of an upload). */
export const inboundActivity = z.looseObject({
  type: z.enum(['message', 'event', 'typing', 'conversationUpdate', 'invoke']),
  // Bounded by the 413 check (the body as a whole), or the upload's size; kept cut to what the bot reads.
  text: z.string().transform((t) => cutToReadable(stripControlCharacters(t))).optional(),
  textFormat: z.enum(['plain', 'markdown', 'xml']).optional(),
  locale: idString(20).optional(),
  name: idString(ACTIVITY_LIMITS.nameChars).optional(),
  // Also here (not only in the 413 check) so the `activity` part of an upload is held to it. No NUL
  // anywhere in it: the log keeps it as PostgreSQL jsonb, which cannot hold one.
  value: z
    .unknown()
    .optional()
    .refine((v) => jsonBytes(v) <= ACTIVITY_LIMITS.valueBytes, 'value is too large')
    .refine((v) => !holdsNul(v), 'value holds a NUL character'),
  from: z.looseObject({ id: idString(128).optional(), name: writtenString(128).optional() }).optional(),
  channelData: z
    .looseObject({
      clientActivityID: idString(128).optional(),
      clientTimestamp: idString(64).optional(),
    })
    .optional(),
  attachments: z
    .array(z.looseObject({ contentType: idString(200).optional(), name: writtenString(255).optional() }))
    .max(10)
    .optional(),
});
export type InboundActivity = z.infer<typeof inboundActivity>;

/** An activity the bot side hands back (a botbuilder Activity, already plain JSON). */
export const botActivity = z.looseObject({
  type: z.string().min(1),
  text: z.string().optional(),
  textFormat: z.string().optional(),
  locale: z.string().optional(),
  name: z.string().optional(),
  value: z.unknown().optional(),
  attachments: z.array(z.looseObject({ contentType: z.string() })).optional(),
  attachmentLayout: z.string().optional(),
  suggestedActions: z.unknown().optional(),
  inputHint: z.string().optional(),
  speak: z.string().optional(),
  entities: z.array(z.unknown()).optional(),
  channelData: z.record(z.string(), z.unknown()).optional(),
  from: z.looseObject({ id: z.string().optional(), name: z.string().optional() }).optional(),
});
export type BotActivity = z.infer<typeof botActivity>;

/** `?watermark=` is empty (from the start) or a non-negative integer we handed out. */
export const watermarkQuery = z
  .string()
  .optional()
  .transform((w, ctx) => {
    if (w === undefined || w === '') return 0;
    if (!/^\d{1,12}$/.test(w)) {
      ctx.addIssue({ code: 'custom', message: 'watermark must be a number' });
      return z.NEVER;
    }
    return Number(w);
  });

/** The Direct Line error body: `{ error: { code, message } }`. */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
