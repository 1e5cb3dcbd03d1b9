/**
 * The activity check as it was before issue 19 — the zod schemas and the mapping built on them —
 * kept only so test/channels/botframework/activity-parity.test.ts can prove the hand-written check
 * (src/channels/botframework/activity-check.ts) takes, refuses and returns exactly what these did.
 * Not to be imported by the bot.
 */
import { z } from 'zod';
import { hasControlCharacter, stripControlCharacters } from '../../../src/engine/text';
import type { AttachmentRef, Inbound } from '../../../src/engine/types';

/**
 * An id (of an activity, a conversation, a person): never a control character (issue 15, item 3).
 * PostgreSQL refuses a NUL outright, so such an activity is answered 400 and nothing of it is kept.
 */
const id = (max: number) => z.string().max(max).refine((s) => !hasControlCharacter(s), 'an id holds a control character');
/** What a person wrote or is called: control characters (but tab and line breaks) are dropped. */
const written = (max: number) => z.string().max(max).transform(stripControlCharacters);

const account = z.looseObject({
  id: id(512).min(1),
  name: written(512).optional().nullable(),
  aadObjectId: id(128).optional().nullable(),
});

const attachment = z.looseObject({
  contentType: z.string().max(256),
  contentUrl: z.string().max(4096).optional().nullable(),
  name: z.string().max(1024).optional().nullable(),
  content: z.unknown().optional(),
});

/** The fields of an incoming activity the bot relies on; anything else passes through untouched. */
export const incomingActivity = z.looseObject({
  type: id(64).min(1),
  // An invoke's operation (`adaptiveCard/action`: a press of an Action.Execute button).
  name: id(128).optional().nullable(),
  id: id(512).optional().nullable(),
  // A channel's name, nothing else: botbuilder skips the signing key's endorsement check for a blank one.
  channelId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/),
  serviceUrl: z.url({ protocol: /^https?$/ }),
  conversation: z.looseObject({
    id: id(1024).min(1),
    tenantId: id(128).optional().nullable(),
    name: written(1024).optional().nullable(),
  }),
  from: account,
  recipient: account,
  locale: id(35).optional().nullable(),
  // No cap here: a message over MAX_MESSAGE_CHARS is answered politely by the engine (issue 15,
  // item 5); the body limit (MAX_BODY_BYTES) bounds it.
  text: z.string().transform(stripControlCharacters).optional().nullable(),
  value: z.unknown().optional(),
  replyToId: id(512).optional().nullable(),
  deliveryMode: z.string().max(32).optional().nullable(),
  attachments: z.array(attachment).max(20).optional().nullable(),
  membersAdded: z.array(account).max(1000).optional().nullable(),
  entities: z.array(z.looseObject({ type: z.string().optional() })).optional().nullable(),
});
export type IncomingActivity = z.infer<typeof incomingActivity>;

/**
 * What a button of our cards carries back: in `activity.value` for an `Action.Submit` (cards sent
 * before Teams' Universal Actions were used, and the web chat), in `activity.value.action.data` for an
 * `Action.Execute`. `prompt` is the question the card showed and `label` the button's title, so the
 * card can be replaced by an answered version without storing it anywhere.
 */
export const cardSubmit = z.object({
  choice: id(200).min(1),
  step: id(200).optional(),
  prompt: z.string().max(4000).optional(),
  label: z.string().max(400).optional(),
});
export type CardSubmit = z.infer<typeof cardSubmit>;

/** The invoke Teams sends when an `Action.Execute` button is pressed (Universal Actions for Adaptive Cards). */
export const CARD_ACTION_INVOKE = 'adaptiveCard/action';

const executeValue = z.looseObject({
  action: z.looseObject({ type: z.literal('Action.Execute'), verb: z.string().max(64).optional(), data: z.unknown() }),
});

/** Is this the invoke of an `Action.Execute` press (answered in the HTTP response, never left unanswered)? */
export function isCardAction(activity: { type?: string; name?: string | null }): boolean {
  return activity.type === 'invoke' && activity.name === CARD_ACTION_INVOKE;
}

/**
 * Presses read so far, by the activity's `value` (one object per request, shared by the copies of the
 * activity a turn makes, so always of the same activity type): a turn asks up to three times (the
 * Inbound, the card to retire, its prompt).
 */
const presses = new WeakMap<object, CardSubmit | null>();

/** What the pressed button of our card carried, from a submit message or an execute invoke; undefined for anything else. */
export function pressOf(activity: { type?: string; name?: string | null; value?: unknown }): CardSubmit | undefined {
  const execute = isCardAction(activity);
  if (!execute && activity.type !== 'message') return undefined;
  const value = activity.value;
  if (!value || typeof value !== 'object') return undefined; // a press's value is always an object
  const seen = presses.get(value);
  if (seen !== undefined) return seen ?? undefined;
  let data: unknown = value;
  if (execute) {
    const parsed = executeValue.safeParse(value);
    data = parsed.success ? parsed.data.action.data : undefined;
  }
  const submit = cardSubmit.safeParse(data);
  const press = submit.success ? submit.data : undefined;
  presses.set(value, press ?? null);
  return press;
}

/** Teams sends file uploads as `…file.download.info` with the URL inside `content`. */
const TEAMS_FILE = 'application/vnd.microsoft.teams.file.download.info';
const teamsFile = z.looseObject({ downloadUrl: z.string().max(4096), fileType: z.string().max(64).optional() });

/** Media types of the file types Teams reports, so a case shows `image/png` rather than Teams' wrapper type. */
const MEDIA_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
  log: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** Attachments that are files the person sent (not the HTML copy of the message, not our own cards). */
export function toAttachmentRefs(attachments: IncomingActivity['attachments']): AttachmentRef[] {
  const out: AttachmentRef[] = [];
  for (const a of attachments ?? []) {
    const type = a.contentType.toLowerCase();
    if (type === 'text/html' || type.startsWith('application/vnd.microsoft.card.')) continue;
    const file = type === TEAMS_FILE ? teamsFile.safeParse(a.content) : undefined;
    if (file && !file.success) continue;
    const url = file ? file.data.downloadUrl : a.contentUrl;
    if (!url) continue;
    const contentType = file ? (MEDIA_TYPES[(file.data.fileType ?? '').toLowerCase()] ?? 'application/octet-stream') : a.contentType;
    const size = z.looseObject({ size: z.number().int().nonnegative() }).safeParse(a.content);
    out.push({ name: a.name ?? 'attachment', contentType, ...(size.success ? { size: size.data.size } : {}), url });
  }
  return out;
}

/** Removes `<at>Bot</at>` mentions Teams puts into messages addressed to the bot in a channel. */
export function stripMentions(text: string): string {
  return text.replace(/<at>[^<]*<\/at>/gi, ' ').replace(/\s+/g, ' ').trim();
}

function clientLocale(activity: IncomingActivity): string | undefined {
  for (const e of activity.entities ?? []) {
    if (e.type === 'clientInfo' && typeof e.locale === 'string') return e.locale;
  }
  return undefined;
}

/**
 * Maps a validated activity to what the engine understands, or undefined when it is nothing the
 * bot answers (typing, reactions, members leaving, a conversationUpdate that does not add the bot).
 * `authenticated`: the activity's Bot Framework token was validated; only then is a Teams sender's
 * AAD object id proven (src/security/identity.ts). Without it, anyone could write any id.
 */
export function toInbound(activity: IncomingActivity, proof: { authenticated: boolean } = { authenticated: false }): Inbound | undefined {
  const aad = proof.authenticated && activity.channelId === 'msteams' ? activity.from.aadObjectId : undefined;
  const base = {
    channel: activity.channelId,
    conversationId: activity.conversation.id,
    user: {
      id: activity.from.id,
      ...(activity.from.name ? { name: activity.from.name } : {}),
      ...(aad ? { verified: [{ scheme: 'aad' as const, value: aad }] } : {}),
    },
    ...(activity.id ? { activityId: activity.id } : {}),
    locale: activity.locale ?? clientLocale(activity) ?? undefined,
  };
  if (activity.type === 'conversationUpdate') {
    const botAdded = (activity.membersAdded ?? []).some((m) => m.id === activity.recipient.id);
    return botAdded ? { ...base, kind: 'greeting' } : undefined;
  }
  const submit = pressOf(activity);
  // A press of an Action.Execute button is the person's answer, as a submit message is; other invokes are not ours.
  if (isCardAction(activity)) return submit ? { ...base, kind: 'message', choice: { id: submit.choice, ...(submit.step ? { step: submit.step } : {}) } } : undefined;
  if (activity.type !== 'message') return undefined;

  const text = stripMentions(activity.text ?? '');
  const attachments = toAttachmentRefs(activity.attachments);
  return {
    ...base,
    kind: 'message',
    ...(text ? { text } : {}),
    ...(submit ? { choice: { id: submit.choice, ...(submit.step ? { step: submit.step } : {}) } } : {}),
    ...(attachments.length ? { attachments } : {}),
  };
}
