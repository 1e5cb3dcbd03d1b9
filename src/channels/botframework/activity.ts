/**
 * The edge between Bot Framework activities and the engine: what we read from an activity (checked
 * in ./activity-check.ts), and the mapping to a channel-neutral `Inbound`. Nothing here talks to the network.
 */
import type { AttachmentRef, Inbound, InboundUser } from '../../engine/types';
import { isId, isRecord, isText, type IncomingActivity } from './activity-check';

export { ActivityError, incomingActivity, type IncomingAccount, type IncomingActivity, type IncomingAttachment } from './activity-check';

/**
 * What a button of our cards carries back: in `activity.value` for an `Action.Submit` (cards sent
 * before Teams' Universal Actions were used, and the web chat), in `activity.value.action.data` for an
 * `Action.Execute`. `prompt` is the question the card showed and `label` the button's title, so the
 * card can be replaced by an answered version without storing it anywhere.
 */
export interface CardSubmit {
  choice: string;
  step?: string;
  prompt?: string;
  label?: string;
}

/** `data` as a button of our cards carries it, or undefined; fields it does not name are left behind. */
export function cardSubmit(data: unknown): CardSubmit | undefined {
  if (!isRecord(data)) return undefined;
  const { choice, step, prompt, label } = data;
  if (!isId(choice, 200) || choice === '') return undefined;
  if ((step !== undefined && !isId(step, 200)) || (prompt !== undefined && !isText(prompt, 4000)) || (label !== undefined && !isText(label, 400))) return undefined;
  const submit: CardSubmit = { choice };
  // A field sent as undefined stays, as it did when a schema read it.
  if (step !== undefined || 'step' in data) submit.step = step;
  if (prompt !== undefined || 'prompt' in data) submit.prompt = prompt;
  if (label !== undefined || 'label' in data) submit.label = label;
  return submit;
}

/** The invoke Teams sends when an `Action.Execute` button is pressed (Universal Actions for Adaptive Cards). */
export const CARD_ACTION_INVOKE = 'adaptiveCard/action';

/** The data of an `Action.Execute` press's `value`, or undefined when the value is no such press. */
function executeData(value: object): unknown {
  if (!isRecord(value)) return undefined;
  const action = value.action;
  if (!isRecord(action) || action.type !== 'Action.Execute') return undefined;
  if (action.verb !== undefined && !isText(action.verb, 64)) return undefined;
  return action.data;
}

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
  const press = cardSubmit(execute ? executeData(value) : value);
  presses.set(value, press ?? null);
  return press;
}

/** Teams sends file uploads as `…file.download.info` with the URL inside `content`. */
const TEAMS_FILE = 'application/vnd.microsoft.teams.file.download.info';

/**
 * Media types of the file types Teams reports, so a case shows `image/png` rather than Teams' wrapper
 * type. A map: a fileType such as `constructor` must not find Object's members.
 */
const MEDIA_TYPES = new Map(
  Object.entries({
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
  }),
);

/** Attachments that are files the person sent (not the HTML copy of the message, not our own cards). */
export function toAttachmentRefs(attachments: IncomingActivity['attachments']): AttachmentRef[] {
  const out: AttachmentRef[] = [];
  for (const a of attachments ?? []) {
    const type = a.contentType.toLowerCase();
    if (type === 'text/html' || type.startsWith('application/vnd.microsoft.card.')) continue;
    const content = a.content;
    let url = a.contentUrl;
    let contentType = a.contentType;
    if (type === TEAMS_FILE) {
      // Teams' wrapper: the URL and the file's type are inside; without a URL of its own it is no file.
      if (!isRecord(content) || !isText(content.downloadUrl, 4096) || (content.fileType !== undefined && !isText(content.fileType, 64))) continue;
      url = content.downloadUrl;
      contentType = MEDIA_TYPES.get((content.fileType ?? '').toLowerCase()) ?? 'application/octet-stream';
    }
    if (!url) continue;
    const name = a.name ?? 'attachment';
    const size = isRecord(content) && Number.isSafeInteger(content.size) && (content.size as number) >= 0 ? (content.size as number) : undefined;
    out.push(size === undefined ? { name, contentType, url } : { name, contentType, size, url });
  }
  return out;
}

/** What stripMentions would change: a mention, whitespace other than one space between words. */
const UNTIDY = /<at>|\s\s|[^\S ]|^\s|\s$/i;

/** Removes `<at>Bot</at>` mentions Teams puts into messages addressed to the bot in a channel. */
export function stripMentions(text: string): string {
  // Most messages have nothing to remove; the replaces would copy them anyway (issue 19).
  if (!UNTIDY.test(text)) return text;
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
  if (activity.type === 'conversationUpdate') {
    const botAdded = (activity.membersAdded ?? []).some((m) => m.id === activity.recipient.id);
    return botAdded ? inboundOf(activity, proof.authenticated, 'greeting') : undefined;
  }
  const submit = pressOf(activity);
  const choice = submit && (submit.step ? { id: submit.choice, step: submit.step } : { id: submit.choice });
  // A press of an Action.Execute button is the person's answer, as a submit message is; other invokes are not ours.
  if (isCardAction(activity)) {
    if (!choice) return undefined;
    const press = inboundOf(activity, proof.authenticated, 'message');
    press.choice = choice;
    return press;
  }
  if (activity.type !== 'message') return undefined;

  const inbound = inboundOf(activity, proof.authenticated, 'message');
  const text = stripMentions(activity.text ?? '');
  const attachments = toAttachmentRefs(activity.attachments);
  if (text) inbound.text = text;
  if (choice) inbound.choice = choice;
  if (attachments.length) inbound.attachments = attachments;
  return inbound;
}

/** What every Inbound of the activity holds: plain literals, as a spread-then-extend costs V8 a copy per property added. */
function inboundOf(activity: IncomingActivity, authenticated: boolean, kind: 'message' | 'greeting'): Inbound {
  const { from } = activity;
  const aad = authenticated && activity.channelId === 'msteams' ? from.aadObjectId : undefined;
  const user: InboundUser = { id: from.id };
  if (from.name) user.name = from.name;
  if (aad) user.verified = [{ scheme: 'aad', value: aad }];
  const channel = activity.channelId;
  const conversationId = activity.conversation.id;
  const locale = activity.locale ?? clientLocale(activity) ?? undefined;
  return activity.id ? { channel, conversationId, user, activityId: activity.id, locale, kind } : { channel, conversationId, user, locale, kind };
}
