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
  text: shortString(10_000).optional(),
  textFormat: z.enum(['plain', 'markdown', 'xml']).optional(),
  locale: shortString(20).optional(),
  name: shortString(200).optional(),
  value: z.unknown().optional(),
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
