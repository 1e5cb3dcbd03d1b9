/**
 * The web chat channel: the page at `/` (Microsoft's Web Chat) and the local Direct Line endpoint at
 * `/directline`, as server plug-ins. Off when `WEBCHAT_ENABLED=false`.
 */
import type { Config } from '../../config';
import type { Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { ServerPlugin } from '../../server';
import { isLoopbackHostName, type RequestOrigin } from '../../security/client';
import { SiteAccess } from './access';
import { MemoryActivityLog, type ActivityLog } from './activity-log';
import { DirectLineEndpoint, type BotBridge } from './channel';
import { siteKeyOf } from './conversation-tokens';
import { WebChatPage } from './page';
import { isSqlStore, SqlActivityLog } from './sql-activity-log';
import { createUploadQuota } from './upload-quota';
import { UploadStore } from './uploads';

export type WebChatConfig = Pick<
  Config,
  | 'WEBCHAT_ENABLED'
  | 'WEBCHAT_TOKEN'
  | 'WEBCHAT_UPLOAD_DIR'
  | 'WEBCHAT_MAX_UPLOAD_BYTES'
  | 'WEBCHAT_MAX_UPLOADS_PER_CONVERSATION'
  | 'WEBCHAT_MAX_UPLOAD_BYTES_PER_CONVERSATION'
  | 'WEBCHAT_UPLOAD_WINDOW_HOURS'
  | 'HOST'
  | 'DIRECTLINE_TOKEN_TTL_SECONDS'
  | 'PUBLIC_URL'
>;

export interface WebChatDeps {
  config: WebChatConfig;
  bridge: BotBridge;
  translator: Translator;
  logger: Logger;
  /** Who is "this machine", which client a request is, whether it came over HTTPS (src/security/client.ts). */
  origin?: RequestOrigin;
  /** The bot's store: with a SQL store, Direct Line conversations and activities are kept in it. */
  store?: object;
  /** Overrides where Direct Line conversations and their activities are kept (default: the store, else memory). */
  log?: ActivityLog;
  clock?: () => Date;
  pollingIntervalMs?: number;
}

/** The page and the endpoint as server plug-ins; none when the web chat is turned off. */
export function createWebChatPlugins(deps: WebChatDeps): ServerPlugin[] {
  const { config, logger } = deps;
  if (!config.WEBCHAT_ENABLED) {
    logger.info('web chat is off (WEBCHAT_ENABLED=false)');
    return [];
  }
  const access = new SiteAccess(config.WEBCHAT_TOKEN, deps.origin);
  if (!access.tokenConfigured && !isLoopbackHostName(config.HOST)) {
    logger.info({ host: config.HOST }, 'web chat answers only browsers on this machine; set WEBCHAT_TOKEN to let others in');
  }
  const uploads = new UploadStore(config.WEBCHAT_UPLOAD_DIR, config.WEBCHAT_MAX_UPLOAD_BYTES);
  const endpoint = new DirectLineEndpoint({
    bridge: deps.bridge,
    log: deps.log ?? (isSqlStore(deps.store) ? new SqlActivityLog(deps.store) : new MemoryActivityLog()),
    uploads,
    // In the store's database when there is one: instances sharing it share each conversation's limits.
    uploadQuota: createUploadQuota(
      {
        maxFiles: config.WEBCHAT_MAX_UPLOADS_PER_CONVERSATION,
        maxBytes: config.WEBCHAT_MAX_UPLOAD_BYTES_PER_CONVERSATION,
        windowMs: config.WEBCHAT_UPLOAD_WINDOW_HOURS * 3600_000,
      },
      deps.store,
    ),
    origin: deps.origin,
    publicUrl: config.PUBLIC_URL,
    access,
    logger,
    clock: deps.clock,
    tokenTtlSeconds: config.DIRECTLINE_TOKEN_TTL_SECONDS,
    siteKey: siteKeyOf(config.WEBCHAT_TOKEN),
  });
  const page = new WebChatPage({ translator: deps.translator, access, pollingIntervalMs: deps.pollingIntervalMs });
  return [page.plugin(), endpoint.plugin()];
}

export { DirectLineEndpoint, type BotBridge } from './channel';
export { MemoryActivityLog, type ActivityLog } from './activity-log';
export { SqlActivityLog } from './sql-activity-log';
