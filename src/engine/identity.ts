/** The keys a turn is stored under, and who a new run is for. */
import type { FlowInput, Locale } from '../../dialogs/flow';
import type { Inbound } from './types';

/** The store's key of a conversation: `${channel}:${conversationId}`. */
export function conversationKey(inbound: Pick<Inbound, 'channel' | 'conversationId'>): string {
  return `${inbound.channel}:${inbound.conversationId}`;
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
