/**
 * The check of an incoming Bot Framework activity: the fields the bot relies on, or why the activity
 * is refused (answered 400). Anything else the activity holds passes through untouched.
 *
 * Checked by hand rather than with zod (issue 19): every activity passes here, and the schema walk
 * allocated more than parsing the body's JSON, all of it held for the turn. It takes and refuses what
 * the schema did (test/channels/botframework/activity-parity.test.ts): lengths in code points (a
 * surrogate pair is one), ids never holding a control character, http(s) serviceUrls only.
 *
 * The result is a copy, as the schema's was: one spread per object (the same shape as the input, in
 * one allocation), the checked fields read from the copy so a getter cannot answer twice, an own
 * `__proto__` key dropped.
 */
import { hasControlCharacter, stripControlCharacters } from '../../engine/text';

export interface IncomingAccount {
  id: string;
  name?: string | null;
  aadObjectId?: string | null;
  [key: string]: unknown;
}

export interface IncomingAttachment {
  contentType: string;
  contentUrl?: string | null;
  name?: string | null;
  content?: unknown;
  [key: string]: unknown;
}

/** The fields of an incoming activity the bot relies on; anything else passes through untouched. */
export interface IncomingActivity {
  type: string;
  /** An invoke's operation (`adaptiveCard/action`: a press of an Action.Execute button). */
  name?: string | null;
  id?: string | null;
  channelId: string;
  serviceUrl: string;
  conversation: { id: string; tenantId?: string | null; name?: string | null; [key: string]: unknown };
  from: IncomingAccount;
  recipient: IncomingAccount;
  locale?: string | null;
  text?: string | null;
  value?: unknown;
  replyToId?: string | null;
  deliveryMode?: string | null;
  attachments?: IncomingAttachment[] | null;
  membersAdded?: IncomingAccount[] | null;
  entities?: { type?: string; [key: string]: unknown }[] | null;
  [key: string]: unknown;
}

/** Why an activity was refused: the first field found wrong (for logs; the HTTP answer says no more than 400). */
export class ActivityError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(path ? `activity.${path} ${reason}` : `the activity ${reason}`);
    this.name = 'ActivityError';
  }
}

export type ActivityCheck = { success: true; data: IncomingActivity; error?: undefined } | { success: false; data?: undefined; error: ActivityError };

type Fields = Record<string, unknown>;

/** An object that is not an array (a class instance counts, as for zod). */
export function isRecord(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string of at most `max` code points (a surrogate pair is one, a lone surrogate one too). */
export function isText(v: unknown, max: number): v is string {
  if (typeof v !== 'string') return false;
  const units = v.length;
  if (units <= max) return true;
  if (units > 2 * max) return false;
  let points = units;
  for (let i = 0; i < units - 1; i++) {
    if ((v.charCodeAt(i) & 0xfc00) === 0xd800 && (v.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      points--;
      i++;
    }
  }
  return points <= max;
}

/**
 * An id (of an activity, a conversation, a person): never a control character (issue 15, item 3).
 * PostgreSQL refuses a NUL outright, so such an activity is answered 400 and nothing of it is kept.
 */
export function isId(v: unknown, max: number): v is string {
  return isText(v, max) && !hasControlCharacter(v);
}

const CHANNEL_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const HTTP_URL = /^https?:\/\//i;
const TAB_OR_LINE_BREAK = /[\t\n\r]/;

function refuse(path: string, reason: string): never {
  throw new ActivityError(path, reason);
}

function id(v: unknown, max: number, path: string): string {
  if (!isId(v, max)) refuse(path, `is not an id (at most ${max} characters, no control character)`);
  return v;
}

function requiredId(v: unknown, max: number, path: string): string {
  if (id(v, max, path) === '') refuse(path, 'is empty');
  return v as string;
}

function text(v: unknown, max: number, path: string): string {
  if (!isText(v, max)) refuse(path, max === Infinity ? 'is not a string' : `is not a string of at most ${max} characters`);
  return v;
}

/**
 * An optional field as the schema's `.optional().nullable()` read it: absent, undefined or null stay
 * as they are; anything else must be what `read` takes (an id, some text) and becomes what it returns.
 */
function optional(out: Fields, key: string, read: 'id' | 'written' | 'text', max: number, path: string): void {
  const v = out[key];
  if (v === undefined || v === null) return;
  if (read === 'id') id(v, max, path);
  else if (read === 'text') text(v, max, path);
  else {
    // What a person wrote or is called: control characters (but tab and line breaks) are dropped.
    const clean = stripControlCharacters(text(v, max, path));
    if (clean !== v) out[key] = clean;
  }
}

/** `v` if it is an object; refused otherwise. */
function record(v: unknown, path: string): Fields {
  if (!isRecord(v)) refuse(path, 'is not an object');
  return v;
}

/**
 * `copy` without an own `__proto__` key: never a prototype for whoever copies it on. Each caller
 * spreads on its own line, so each spread sees objects of one shape and V8 copies them in one go.
 */
function own(copy: Fields): Fields {
  if (Object.hasOwn(copy, '__proto__')) delete copy.__proto__;
  return copy;
}

/** A list of at most `max` items, each read by `read` into a new list (absent, undefined and null stay). */
function list(out: Fields, key: string, max: number, read: (v: unknown) => Fields, path: string): void {
  const v = out[key];
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) refuse(path, 'is not a list');
  if (v.length > max) refuse(path, `holds more than ${max} items`);
  const items: Fields[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) items[i] = read(v[i]);
  out[key] = items;
}

/** Where an account's fields are, for a refusal's message: built once, not per activity. */
const accountPaths = (at: string) => ({ at, id: `${at}.id`, name: `${at}.name`, aadObjectId: `${at}.aadObjectId` });
const FROM = accountPaths('from');
const RECIPIENT = accountPaths('recipient');
const MEMBER = accountPaths('membersAdded[]');

function account(v: unknown, path: typeof FROM): Fields {
  const out = own({ ...record(v, path.at) });
  requiredId(out.id, 512, path.id);
  optional(out, 'name', 'written', 512, path.name);
  optional(out, 'aadObjectId', 'id', 128, path.aadObjectId);
  return out;
}

const member = (v: unknown): Fields => account(v, MEMBER);

function attachment(v: unknown): Fields {
  const out = own({ ...record(v, 'attachments[]') });
  text(out.contentType, 256, 'attachments[].contentType');
  optional(out, 'contentUrl', 'text', 4096, 'attachments[].contentUrl');
  optional(out, 'name', 'text', 1024, 'attachments[].name');
  return out;
}

function entity(v: unknown): Fields {
  const out = own({ ...record(v, 'entities[]') });
  if (out.type !== undefined && typeof out.type !== 'string') refuse('entities[].type', 'is not a string');
  return out;
}

/** An http(s) URL, trimmed and without tabs and line breaks (the URL parser drops them anyway). */
function serviceUrl(v: unknown): string {
  if (typeof v !== 'string') refuse('serviceUrl', 'is not a string');
  const trimmed = v.trim();
  // The scheme is read before parsing: `http:host` and `https:/path` would otherwise parse.
  if (!HTTP_URL.test(trimmed) || !URL.canParse(trimmed)) refuse('serviceUrl', 'is not an http(s) URL');
  return TAB_OR_LINE_BREAK.test(trimmed) ? trimmed.replace(/[\t\n\r]/g, '') : trimmed;
}

function check(input: unknown): IncomingActivity {
  const out = own({ ...record(input, '') });
  requiredId(out.type, 64, 'type');
  optional(out, 'name', 'id', 128, 'name');
  optional(out, 'id', 'id', 512, 'id');
  // A channel's name, nothing else: botbuilder skips the signing key's endorsement check for a blank one.
  if (typeof out.channelId !== 'string' || !CHANNEL_ID.test(out.channelId)) refuse('channelId', 'is not a channel name');
  const url = serviceUrl(out.serviceUrl);
  if (url !== out.serviceUrl) out.serviceUrl = url;
  const conversation = own({ ...record(out.conversation, 'conversation') });
  requiredId(conversation.id, 1024, 'conversation.id');
  optional(conversation, 'tenantId', 'id', 128, 'conversation.tenantId');
  optional(conversation, 'name', 'written', 1024, 'conversation.name');
  out.conversation = conversation;
  out.from = account(out.from, FROM);
  out.recipient = account(out.recipient, RECIPIENT);
  optional(out, 'locale', 'id', 35, 'locale');
  // No cap here: a message over MAX_MESSAGE_CHARS is answered politely by the engine (issue 15,
  // item 5); the body limit (MAX_BODY_BYTES) bounds it.
  optional(out, 'text', 'written', Infinity, 'text');
  optional(out, 'replyToId', 'id', 512, 'replyToId');
  optional(out, 'deliveryMode', 'text', 32, 'deliveryMode');
  list(out, 'attachments', 20, attachment, 'attachments');
  list(out, 'membersAdded', 1000, member, 'membersAdded');
  list(out, 'entities', Infinity, entity, 'entities');
  return out as IncomingActivity;
}

/** Checks a request body as an incoming activity, in the shape callers of a zod schema know. */
export const incomingActivity = {
  safeParse(input: unknown): ActivityCheck {
    try {
      return { success: true, data: check(input) };
    } catch (err) {
      if (err instanceof ActivityError) return { success: false, error: err };
      throw err;
    }
  },
  /** The checked activity, or an ActivityError thrown. */
  parse: check,
};
