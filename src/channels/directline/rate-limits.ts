/**
 * Abuse limits for the public web chat routes: POSTs under `/directline/` (messages, uploads, token
 * refreshes, conversation starts) per client per minute, and conversation starts per client per hour,
 * answered 429 with `Retry-After` before the body is read. Polling (GET) is not counted: Web Chat polls
 * every second while a page is open. Teams (`/api/messages`) and Webex (`/api/webex`) are authenticated
 * by their platforms and never pass through here. A browser on this machine (loopback peer, no proxy
 * headers) is not limited, as it needs no site token either.
 */
import type { Request, Response, Server } from 'restify';
import type { Next } from 'restify';
import type { Config } from '../../config';
import { RateLimiter } from '../../limits/rate-limiter';
import type { Logger } from '../../log';
import { pathOf, type ServerPlugin } from '../../server';
import { DEFAULT_ORIGIN, type RequestOrigin } from '../../security/client';
import { errorBody } from './protocol';

export type DirectLineLimitsConfig = Pick<Config, 'DIRECTLINE_POSTS_PER_MINUTE' | 'DIRECTLINE_CONVERSATIONS_PER_HOUR'>;

export interface DirectLineLimitsDeps {
  config: DirectLineLimitsConfig;
  logger: Logger;
  /** Which client a request is (IPv6 by /64) and who is this machine. */
  origin?: RequestOrigin;
  /** Milliseconds since the epoch (tests pass a fixed clock). */
  clock?: () => number;
}

const PREFIX = '/directline/';
const CONVERSATIONS = '/directline/conversations';

export function createDirectLineLimits(deps: DirectLineLimitsDeps): ServerPlugin | undefined {
  const { config, logger } = deps;
  const options = { clock: deps.clock };
  const posts =
    config.DIRECTLINE_POSTS_PER_MINUTE > 0
      ? new RateLimiter({ capacity: config.DIRECTLINE_POSTS_PER_MINUTE, refillPerSecond: config.DIRECTLINE_POSTS_PER_MINUTE / 60 }, options)
      : undefined;
  const conversations =
    config.DIRECTLINE_CONVERSATIONS_PER_HOUR > 0
      ? new RateLimiter({ capacity: config.DIRECTLINE_CONVERSATIONS_PER_HOUR, refillPerSecond: config.DIRECTLINE_CONVERSATIONS_PER_HOUR / 3600 }, options)
      : undefined;
  if (!posts && !conversations) return undefined;
  const origin = deps.origin ?? DEFAULT_ORIGIN;

  return {
    name: 'directline-limits',
    register(server: Server) {
      // `pre`: before routing and before the body is read, so a flood costs as little as possible.
      server.pre((req: Request, res: Response, next: Next) => {
        if (req.method !== 'POST') return next();
        const path = pathOf(req.url);
        if (!path.startsWith(PREFIX) || origin.isLocal(req)) return next();
        const client = origin.clientKey(req);
        const limiters = [path === CONVERSATIONS ? conversations : undefined, posts].filter((l) => l !== undefined);
        for (const limiter of limiters) {
          const decision = limiter.take(client);
          if (decision.allowed) continue;
          // No client address in the log: it is personal data, and the count is what tuning needs.
          logger.debug({ path, retryAfterSeconds: decision.retryAfterSeconds }, 'web chat request rate-limited');
          res.setHeader('Retry-After', String(decision.retryAfterSeconds));
          res.setHeader('Cache-Control', 'no-store');
          res.send(429, errorBody('TooManyRequests', 'Too many requests from this address; try again after Retry-After seconds.'));
          return next(false);
        }
        return next();
      });
    },
  };
}
