/**
 * The Direct Line 3.0 subset Web Chat's own client (botframework-directlinejs, `webSocket: false`)
 * speaks, validated at the edge. Only the fields the bot uses are kept from what a browser sends.
 */
import { z } from 'zod';

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

const shortString = (max: number) => z.string().max(max);

/**
 * Size caps on what a browser may post. The page's own activities stay far below them: typed text,
 * a card press (`{ choice, step, prompt ≤ 4000 chars, label }`, about 10 KB in Ukrainian), the
 * language switch. Anything larger is answered 413 and not stored (issue 14, item 5).
 */
export const ACTIVITY_LIMITS = {
  /** The whole activity as posted (UTF-8 bytes of its JSON): room for the largest text and value together. */
  activityBytes: 64 * 1024,
  /** The same bound the bot applies to a message's text (src/channels/botframework/activity.ts). */
  textChars: 10_000,
  /** Event names are short identifiers (`webchat/setLanguage`). */
  nameChars: 128,
  /** UTF-8 bytes of the value's JSON: a pressed card's submit data with its longest prompt fits. */
  valueBytes: 16 * 1024,
} as const;

export function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** Which cap a posted activity exceeds, if any; `raw` is the body's text when the server kept it. */
export function oversizedField(body: unknown, raw?: unknown): 'activity' | 'text' | 'name' | 'value' | undefined {
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : jsonBytes(body);
  if (bytes > ACTIVITY_LIMITS.activityBytes) return 'activity';
  if (typeof body !== 'object' || body === null) return undefined;
  const { text, name, value } = body as { text?: unknown; name?: unknown; value?: unknown };
  if (typeof text === 'string' && text.length > ACTIVITY_LIMITS.textChars) return 'text';
  if (typeof name === 'string' && name.length > ACTIVITY_LIMITS.nameChars) return 'name';
  if (jsonBytes(value) > ACTIVITY_LIMITS.valueBytes) return 'value';
  return undefined;
}

/** Body of `POST /conversations`: Web Chat's client sends `{ user: { id }, locale }`, the page the same. */
export const startConversationBody = z
  .looseObject({
    user: z.looseObject({ id: shortString(128).optional(), name: shortString(128).optional() }).optional(),
    locale: shortString(20).optional(),
  })
  .optional();

/** What a browser may post to `POST /conversations/{id}/activities` (or in the `activity` part of an upload). */
export const inboundActivity = z.looseObject({
  type: z.enum(['message', 'event', 'typing', 'conversationUpdate', 'invoke']),
  text: shortString(ACTIVITY_LIMITS.textChars).optional(),
  textFormat: z.enum(['plain', 'markdown', 'xml']).optional(),
  locale: shortString(20).optional(),
  name: shortString(ACTIVITY_LIMITS.nameChars).optional(),
  // Also here (not only in the 413 check) so the `activity` part of an upload is held to it.
  value: z
    .unknown()
    .optional()
    .refine((v) => jsonBytes(v) <= ACTIVITY_LIMITS.valueBytes, 'value is too large'),
  from: z.looseObject({ id: shortString(128).optional(), name: shortString(128).optional() }).optional(),
  channelData: z
    .looseObject({
      clientActivityID: shortString(128).optional(),
      clientTimestamp: shortString(64).optional(),
    })
    .optional(),
  attachments: z
    .array(z.looseObject({ contentType: shortString(200).optional(), name: shortString(255).optional() }))
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
