/**
 * Proactive messages: something the person should know that does not answer a message of theirs
 * (the external ticket id of their case, once the case backend returns it). Each channel that can
 * reach a conversation on its own registers a small notifier; the app routes by the conversation
 * key's channel (`${channel}:${conversationId}`). Lines arrive translated; channels only format them.
 * Whole turns the bot starts on its own (a question with buttons) are ./proactive-turns.ts.
 */
import type { Locale } from '../engine/types';
import { channelOf } from '../engine/identity';

export { channelOf, conversationIdOf } from '../engine/identity';

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

/**
 * One implementation per channel id, with a fallback for channels nobody registered for: the Bot
 * Framework channel serves every channel id that arrives on /api/messages (msteams, emulator, …),
 * and knows by its stored references which conversations it can reach.
 */
export class ByChannel<T> {
  private readonly byChannel = new Map<string, T>();
  private fallback?: T;

  register(channel: string, implementation: T): void {
    this.byChannel.set(channel, implementation);
  }

  registerFallback(implementation: T): void {
    this.fallback = implementation;
  }

  /** The implementation for the conversation's channel, if any. */
  for(conversationKey: string): T | undefined {
    return this.byChannel.get(channelOf(conversationKey)) ?? this.fallback;
  }
}

/** Notifiers by channel (see `ByChannel`). */
export class Notifiers extends ByChannel<ChannelNotifier> implements ChannelNotifier {
  async notify(conversationKey: string, lines: string[], locale: Locale): Promise<NotifyResult> {
    const notifier = this.for(conversationKey);
    return notifier ? notifier.notify(conversationKey, lines, locale) : 'unreachable';
  }
}
