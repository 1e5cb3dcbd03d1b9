/**
 * Proactive turns in the web chat (src/channels/proactive-turns.ts): the event's turn runs, and its
 * messages (a card with its buttons) are appended to the conversation's Direct Line activity stream,
 * which the browser picks up with its next poll, or on the person's next visit. A conversation whose
 * stream is gone (retention) is unreachable. The engine's lock orders the turn with the person's; the
 * endpoint's own per-conversation queue does not hold it, so in a rare race the question can land
 * between a message of the person and its answer (the answer then says where the conversation is).
 */
import type { Inbound, Locale, RenderedMessage } from '../../engine/types';
import { runUnkeptTurn, type ChannelProactiveTurns, type EventEngine, type ProactiveResult } from '../proactive-turns';
import type { ActivityLog } from './activity-log';
import { botActivityEnvelope } from './turns';

export interface DirectLineProactiveTurnsDeps {
  engine: EventEngine;
  log: ActivityLog;
  /** One message as the web chat shows it (the Bot Framework channel's web chat rendering). */
  render: (message: RenderedMessage, locale: Locale) => Record<string, unknown>;
  clock?: () => Date;
}

export class DirectLineProactiveTurns implements ChannelProactiveTurns {
  constructor(private readonly deps: DirectLineProactiveTurnsDeps) {}

  async run(_conversationKey: string, inbound: Inbound): Promise<ProactiveResult> {
    const { engine, log, render } = this.deps;
    const conversation = await log.getConversation(inbound.conversationId);
    if (!conversation) return 'unreachable';
    return runUnkeptTurn(engine, inbound, async (result) => {
      const activities = result.messages.map((m) => render(m, result.locale));
      if (!activities.length) return;
      const now = (this.deps.clock ?? (() => new Date()))().toISOString();
      // Routing fields are the stream's own, whatever the rendering set.
      await log.append(conversation.id, activities.length, (seq, i) => ({ ...activities[i]!, type: 'message', ...botActivityEnvelope(conversation, seq, now) }));
    });
  }
}
