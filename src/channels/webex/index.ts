/** The Webex channel's public surface: build it from the validated config, or not at all without a token. */
import type { Config } from '../../config';
import type { Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { Store } from '../../storage/store';
import { WebexApi } from './api';
import { WebexChannel, type TurnHandler, type WebexChannelOptions } from './channel';

export { WebexApi, WebexApiError } from './api';
export { WebexChannel, WEBEX_ROUTE, type TurnHandler, type WebexChannelOptions } from './channel';
export { WebexWebhookVerifier } from './signature';

export interface WebexChannelDeps {
  engine: TurnHandler;
  store: Store;
  translator: Translator;
  logger: Logger;
  /** The hand-offs' expert space in Webex, when HANDOFF_WEBEX_ROOM_ID is set (src/handoff/). */
  handoffSpace?: WebexChannelOptions['handoffSpace'];
}

type WebexConfig = Pick<
  Config,
  | 'WEBEX_BOT_TOKEN'
  | 'WEBEX_WEBHOOK_SECRET'
  | 'WEBEX_API_URL'
  | 'WEBEX_INSECURE_DEV'
  | 'WEBEX_INBOX_LEASE_SECONDS'
  | 'WEBEX_INBOX_POLL_SECONDS'
  | 'WEBEX_MAX_NOTIFICATION_AGE_MINUTES'
  | 'MAX_BODY_BYTES'
>;

/** Undefined when WEBEX_BOT_TOKEN is not set: the channel is off and /api/webex does not exist. */
export function createWebexChannel(config: WebexConfig, deps: WebexChannelDeps): WebexChannel | undefined {
  if (!config.WEBEX_BOT_TOKEN) return undefined;
  const logger = deps.logger.child({ channel: 'webex' });
  const api = new WebexApi({ baseUrl: config.WEBEX_API_URL, token: config.WEBEX_BOT_TOKEN, logger });
  return new WebexChannel({
    ...deps,
    logger,
    api,
    secret: config.WEBEX_WEBHOOK_SECRET,
    insecureDev: config.WEBEX_INSECURE_DEV,
    maxBodyBytes: config.MAX_BODY_BYTES,
    inbox: { leaseMs: config.WEBEX_INBOX_LEASE_SECONDS * 1000, pollMs: config.WEBEX_INBOX_POLL_SECONDS * 1000 },
    maxNotificationAgeMs: config.WEBEX_MAX_NOTIFICATION_AGE_MINUTES * 60_000,
  });
}
