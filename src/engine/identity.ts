/** The keys a turn is stored under, and who a new run is for. */
import type { FlowInput, Locale } from '../../dialogs/flow';
import { stripControlCharacters } from './text';
import type { Inbound, KnownPerson } from './types';

/** The store's key of a conversation: `${channel}:${conversationId}`. */
export function conversationKey(inbound: Pick<Inbound, 'channel' | 'conversationId'>): string {
  return `${inbound.channel}:${inbound.conversationId}`;
}

/** The channel part of a conversation key (channel ids have no colon; conversation ids may). */
export function channelOf(conversationKey: string): string {
  const i = conversationKey.indexOf(':');
  return i < 0 ? conversationKey : conversationKey.slice(0, i);
}

/** The conversation id part of a conversation key. */
export function conversationIdOf(conversationKey: string): string {
  const i = conversationKey.indexOf(':');
  return i < 0 ? '' : conversationKey.slice(i + 1);
}

/** `${channel}:${activityId}`: an activity handled once, whatever instance gets it again. */
export function activityKeyOf(inbound: Pick<Inbound, 'channel' | 'activityId'>): string | undefined {
  return inbound.activityId ? `${inbound.channel}:${inbound.activityId}` : undefined;
}

/** The input of the entry flow for the person writing (agent triage overrides `mode`). */
export function entryInput(inbound: Inbound, locale: Locale, now: string): FlowInput {
  return {
    locale,
    channel: inbound.channel,
    user: { id: inbound.user.id, name: inbound.user.name, email: inbound.user.email },
    mode: 'self',
    startedAt: now,
  };
}

/** The person as the channel knows them: its email, and the name when the message had none. */
export function withPerson(inbound: Inbound, person: KnownPerson | undefined): Inbound {
  if (!person?.email && !person?.name) return inbound;
  const name = inbound.user.name ?? (person.name === undefined ? undefined : stripControlCharacters(person.name));
  const email = person.email ?? inbound.user.email;
  return { ...inbound, user: { ...inbound.user, ...(name ? { name } : {}), ...(email ? { email } : {}) } };
}
