/**
 * Proactive messages in Webex: a conversation is a space, so a message is a post to its room (the
 * API client retries 5xx and waits out 429 on its own). Its own small client over the same token,
 * so the channel itself needs nothing new.
 */
import type { Config } from '../../config';
import type { Locale } from '../../engine/types';
import type { Logger } from '../../log';
import { conversationIdOf, type ChannelNotifier, type NotifyResult } from '../notify';
import { WebexApi } from './api';
import { renderNote } from './render';

export class WebexNotifier implements ChannelNotifier {
  constructor(private readonly api: WebexApi) {}

  async notify(conversationKey: string, lines: string[], _locale: Locale): Promise<NotifyResult> {
    const roomId = conversationIdOf(conversationKey);
    if (!roomId) return 'unreachable';
    await this.api.createMessage({ roomId, ...renderNote(lines.join('\n\n')) });
    return 'sent';
  }
}

/** Undefined when the Webex channel is off (no WEBEX_BOT_TOKEN). */
export function createWebexNotifier(config: Pick<Config, 'WEBEX_BOT_TOKEN' | 'WEBEX_API_URL'>, logger: Logger): WebexNotifier | undefined {
  if (!config.WEBEX_BOT_TOKEN) return undefined;
  return new WebexNotifier(new WebexApi({ baseUrl: config.WEBEX_API_URL, token: config.WEBEX_BOT_TOKEN, logger: logger.child({ channel: 'webex' }) }));
}
