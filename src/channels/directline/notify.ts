/**
 * Proactive messages in the web chat: a bot message appended to the conversation's Direct Line
 * activity stream, which the browser picks up with its next poll (and a reload shows, as the rest
 * of the history).
 */
import type { Locale } from '../../engine/types';
import { conversationIdOf, type ChannelNotifier, type NotifyResult } from '../notify';
import type { ActivityLog } from './activity-log';
import { botActivityEnvelope } from './turns';

export class DirectLineNotifier implements ChannelNotifier {
  constructor(
    private readonly log: ActivityLog,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async notify(conversationKey: string, lines: string[], locale: Locale): Promise<NotifyResult> {
    const conversation = await this.log.getConversation(conversationIdOf(conversationKey));
    if (!conversation) return 'unreachable';
    const now = this.clock().toISOString();
    await this.log.append(conversation.id, 1, (seq) => ({
      type: 'message',
      ...botActivityEnvelope(conversation, seq, now),
      text: lines.join('\n\n'),
      textFormat: 'plain',
      locale,
    }));
    return 'sent';
  }
}
