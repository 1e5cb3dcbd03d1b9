/**
 * What text the bot takes from a person, for every channel alike (issue 15, items 3 and 5).
 *
 * - Ids (activity, conversation, user, card step) never hold a control character: a channel refuses
 *   such an id at validation (400). PostgreSQL cannot store a NUL at all, and a newline in an id
 *   would split the re-delivery list it is kept in.
 * - A person's text loses its control characters but tab, line feed and carriage return; the channels
 *   strip them when they validate, and the engine again for channels that read text elsewhere
 *   (Webex fetches it, the terminal reads it).
 * - A message longer than MAX_MESSAGE_CHARS is answered, never refused: the bot says it is too long
 *   and asks for a shorter one (src/engine/read-message.ts).
 */

import type { Inbound } from './types';

/** The longest message the bot reads (Bot Framework's own cap on a message's text). */
export const MAX_MESSAGE_CHARS = 10_000;

const ANY_CONTROL = /\p{Cc}/u;
const TEXT_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g;
const HAS_TEXT_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

/** Whether `id` holds a control character (C0, DEL or C1): then it is no id of ours. */
export function hasControlCharacter(id: string): boolean {
  return ANY_CONTROL.test(id);
}

/** `text` without NUL and the other C0 control characters; tab, line feed and carriage return stay. */
export function stripControlCharacters(text: string): string {
  return HAS_TEXT_CONTROL.test(text) ? text.replace(TEXT_CONTROL, '') : text;
}

/** Whether the bot reads `text` or answers that it is too long. */
export function isTooLong(text: string | undefined): boolean {
  return text !== undefined && text.length > MAX_MESSAGE_CHARS;
}

/** `text` cut to what the bot reads, with `…` when it was longer (so it still counts as too long). */
export function cutToReadable(text: string): string {
  if (text.length <= MAX_MESSAGE_CHARS) return text;
  // Never between the two halves of a surrogate pair (an emoji): PostgreSQL would get U+FFFD.
  const end = /[\uD800-\uDBFF]/.test(text.charAt(MAX_MESSAGE_CHARS - 1)) ? MAX_MESSAGE_CHARS + 1 : MAX_MESSAGE_CHARS;
  return `${text.slice(0, end)}…`;
}

/**
 * The inbound with control characters stripped from what the person wrote: the channels strip them
 * at validation, this covers those that read text elsewhere (Webex, the terminal).
 */
export function withCleanText(inbound: Inbound): Inbound {
  const text = inbound.text === undefined ? undefined : stripControlCharacters(inbound.text);
  const name = inbound.user.name === undefined ? undefined : stripControlCharacters(inbound.user.name);
  if (text === inbound.text && name === inbound.user.name) return inbound;
  return { ...inbound, ...(text !== undefined ? { text } : {}), user: { ...inbound.user, ...(name !== undefined ? { name } : {}) } };
}
