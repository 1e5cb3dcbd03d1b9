/**
 * What the endpoint's route groups share: the endpoint's dependencies, what it builds from them once
 * (tokens, turns), and the shape of a route. Its own file so the groups and the endpoint that registers
 * them do not import each other.
 */
import type { Request, Response } from 'restify';
import type { Logger } from '../../log';
import type { RequestOrigin } from '../../security/client';
import type { SiteAccess } from './access';
import type { ActivityLog } from './activity-log';
import type { ConversationAuth, ConversationTokens } from './conversation-tokens';
import { errorBody } from './protocol';
import type { BotBridge, ConversationTurns } from './turns';
import type { UploadQuota } from './upload-quota';
import type { UploadStore } from './uploads';

export interface DirectLineDeps {
  bridge: BotBridge;
  log: ActivityLog;
  uploads: UploadStore;
  access: SiteAccess;
  logger: Logger;
  clock?: () => Date;
  /** How long a conversation token is accepted after it was issued; the client refreshes well before. */
  tokenTtlSeconds?: number;
  /** `siteKeyOf(WEBCHAT_TOKEN)`: conversations remember it, and a refresh needs it unchanged. */
  siteKey?: string;
  /** Per-conversation upload limits (./upload-quota.ts); without it only the per-upload size limit applies. */
  uploadQuota?: Pick<UploadQuota, 'reserve' | 'release'>;
  /** Whether a request came over HTTPS (for links to uploaded files); default: this machine's defaults. */
  origin?: RequestOrigin;
  /** PUBLIC_URL: links to uploaded files start with it. */
  publicUrl?: string;
}

export interface RouteContext extends Omit<DirectLineDeps, 'bridge' | 'clock' | 'tokenTtlSeconds' | 'siteKey'> {
  clock: () => Date;
  tokens: ConversationTokens;
  turns: ConversationTurns;
}

export interface Route {
  method: 'get' | 'post';
  path: string;
  handle(req: Request, res: Response): Promise<void>;
}

/** Answers a request its conversation's token does not allow. */
export function refuse(res: Response, auth: Exclude<ConversationAuth, { ok: true }>): void {
  res.send(auth.status, errorBody(auth.code, auth.message));
}
