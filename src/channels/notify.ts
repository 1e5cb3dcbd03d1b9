/**
 * Proactive messages: something the person should know that does not answer a message of theirs
 * (the external ticket id of their case, once the case backend returns it). Each channel that can
 * reach a conversation on its own registers a small notifier; the app routes by the conversation
 * key's channel (`${channel}:${conversationId}`). Lines arrive translated; channels only format them.
 */
import type { Locale } from '../engine/types';

/**
 * `sent`: the channel took it. `kept`: the channel was unreachable after its retries; the message is
 * kept and shown first on the conversation's next turn. `unreachable`: this conversation cannot be
 * reached proactively (no stored reference, unknown conversation, channel without push).
 */
export type NotifyResult = 'sent' | 'kept' | 'unreachable';

export interface ChannelNotifier {
  /** Sends `lines` (already translated, plain text) to the conversation `conversationKey`. */
  notify(conversationKey: string, lines: string[], locale: Locale): Promise<NotifyResult>;
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

/**
 * Notifiers by channel id, with a fallback for channels nobody registered for: the Bot Framework
 * channel serves every channel id that arrives on /api/messages (msteams, emulator, …), and knows
 * by its stored references which conversations it can reach.
 */
export class Notifiers implements ChannelNotifier {
  private readonly byChannel = new Map<string, ChannelNotifier>();
  private fallback?: ChannelNotifier;

  register(channel: string, notifier: ChannelNotifier): void {
    this.byChannel.set(channel, notifier);
  }

  registerFallback(notifier: ChannelNotifier): void {
    this.fallback = notifier;
  }

  async notify(conversationKey: string, lines: string[], locale: Locale): Promise<NotifyResult> {
    const notifier = this.byChannel.get(channelOf(conversationKey)) ?? this.fallback;
    return notifier ? notifier.notify(conversationKey, lines, locale) : 'unreachable';
  }
}
