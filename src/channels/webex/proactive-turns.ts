/**
 * Proactive turns in Webex (src/channels/proactive-turns.ts): the event's turn runs, and its
 * messages are posted to the space with their card, which becomes the space's live card, as after
 * any turn (./replies.ts). Nothing is kept with the turn here: a post that fails after the API
 * client's own retries fails the run, and the caller's retry shows where the conversation stands.
 * The engine's lock orders the turn with the person's; the inbox's per-space queue does not hold it.
 */
import type { Inbound } from '../../engine/types';
import { runUnkeptTurn, type ChannelProactiveTurns, type EventEngine, type ProactiveResult } from '../proactive-turns';
import { InboxClaim } from './claim';
import type { WebexReplies } from './replies';

export class WebexProactiveTurns implements ChannelProactiveTurns {
  constructor(
    private readonly engine: EventEngine,
    private readonly replies: WebexReplies,
  ) {}

  run(_conversationKey: string, inbound: Inbound): Promise<ProactiveResult> {
    // No inbox notification stands behind it: a claim nobody else can take.
    return runUnkeptTurn(this.engine, inbound, (result) => this.replies.post(inbound.conversationId, result, undefined, new InboxClaim()));
  }
}
