/**
 * Turns the bot starts on its own, delivered: an event (src/engine/proactive.ts) runs as a turn of
 * the conversation under its lock, and what that turn says (a question with its buttons) goes to the
 * person in their channel and language, as a reply to nothing; their press is then an ordinary turn.
 * Each channel that can reach a conversation on its own implements `ProactiveTurns` (Bot Framework
 * through the stored conversation reference, Webex as a post, the web chat in its activity stream);
 * the app routes by the conversation key's channel. The terminal chat has none.
 */
import { eventInbound, type ConversationEvent } from '../engine/proactive';
import type { Inbound, TurnResult } from '../engine/types';
import type { Store } from '../storage/store';
import { ByChannel } from './notify';

export type { ConversationEvent } from '../engine/proactive';

/**
 * `sent`: the turn ran (or had run before) and the channel took its messages. `kept`: the turn ran
 * and its messages are kept for the channel's own retries. `unreachable`: no turn: the conversation
 * is not stored (never started, or deleted by retention), its channel cannot be reached on its own,
 * or no flow answers the event.
 */
export type ProactiveResult = 'sent' | 'kept' | 'unreachable';

export interface ProactiveTurns {
  run(conversationKey: string, event: ConversationEvent): Promise<ProactiveResult>;
}

/** One channel's part: deliver the turn of `inbound` (an event of a stored conversation). */
export interface ChannelProactiveTurns {
  run(conversationKey: string, inbound: Inbound): Promise<ProactiveResult>;
}

/**
 * Proactive turns by channel (see `ByChannel`): the conversation is looked up once here, so a
 * conversation retention deleted (or never stored) is dropped quietly, as is a channel nobody
 * registered (the terminal chat).
 */
export class ProactiveTurnsByChannel extends ByChannel<ChannelProactiveTurns> implements ProactiveTurns {
  constructor(private readonly store: Pick<Store, 'loadConversation'>) {
    super();
  }

  async run(conversationKey: string, event: ConversationEvent): Promise<ProactiveResult> {
    const channel = this.for(conversationKey);
    if (!channel) return 'unreachable';
    const record = await this.store.loadConversation(conversationKey);
    // The person of the conversation, so the language they chose holds for this turn too.
    return record ? channel.run(conversationKey, eventInbound(conversationKey, record.userId, event)) : 'unreachable';
  }
}

/** What every channel's proactive turn needs of the engine. */
export interface EventEngine {
  handle(inbound: Inbound): Promise<TurnResult>;
}

/**
 * Runs the event's turn for channels whose messages are not kept with the turn (Webex, the web
 * chat): `deliver` gets the messages to show. A repeat of the event (its turn committed, but whether
 * its messages went out is not known: the last attempt failed, or the process stopped) shows where
 * the conversation stands, as a returning person sees it, rather than nothing.
 */
export async function runUnkeptTurn(engine: EventEngine, inbound: Inbound, deliver: (result: TurnResult) => Promise<void>): Promise<ProactiveResult> {
  let result = await engine.handle(inbound);
  if (result.skipped) return 'unreachable';
  if (result.duplicate) {
    const { activityId: _id, event: _event, ...rest } = inbound;
    result = await engine.handle({ ...rest, kind: 'greeting' });
    if (result.duplicate) return 'sent';
  }
  await deliver(result);
  return 'sent';
}
