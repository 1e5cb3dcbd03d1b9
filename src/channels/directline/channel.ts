/**
 * A local Direct Line 3.0 endpoint, enough for Web Chat's own client with `webSocket: false`:
 *
 *   POST /directline/conversations                       start (or, with a conversation token, resume)
 *   GET  /directline/conversations/:id                   reconnect (what the client calls when given an id)
 *   POST /directline/tokens/refresh                      the client's refresh loop: a new token for the conversation
 *   POST /directline/conversations/:id/activities        answer `{ id }` once the bot has answered
 *   GET  /directline/conversations/:id/activities?watermark=N   everything after N, and the new watermark
 *   POST /directline/conversations/:id/upload            multipart: `activity` + `file` parts
 *   GET  /directline/attachments/:id/:file               an uploaded file
 *
 * This file wires the pieces: conversation-routes.ts, activity-routes.ts and upload-routes.ts answer
 * the requests; conversation-tokens.ts decides who may; turns.ts puts activities and the bot's answers
 * into the stream (cards.ts replaces pressed cards); upload-form.ts reads uploads.
 */
import type { Request, Response, Server } from 'restify';
import type { ServerPlugin } from '../../server';
import { activityRoutes } from './activity-routes';
import { conversationRoutes } from './conversation-routes';
import { ConversationTokens } from './conversation-tokens';
import type { DirectLineDeps, Route } from './routing';
import { ConversationTurns } from './turns';
import { uploadRoutes } from './upload-routes';

// The contract with the bot side (src/channels/botframework/directline-bridge.ts implements it).
export type { BotBridge } from './turns';
export { REPLACES_CARD } from './cards';
export { PAGE_EVENTS } from './protocol';

export type { DirectLineDeps } from './routing';

export class DirectLineEndpoint {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly routes: Route[];

  constructor(deps: DirectLineDeps) {
    const clock = deps.clock ?? (() => new Date());
    const tokens = new ConversationTokens(deps.log, clock, deps.tokenTtlSeconds, deps.siteKey);
    const turns = new ConversationTurns({ bridge: deps.bridge, log: deps.log, logger: deps.logger, clock });
    const context = { ...deps, clock, tokens, turns };
    this.routes = [...conversationRoutes(context), ...activityRoutes(context), ...uploadRoutes(context)];
  }

  /** The plug-in the server registers. */
  plugin(): ServerPlugin {
    return {
      name: 'directline',
      register: (server: Server) => this.register(server),
      drain: () => this.drain(),
    };
  }

  register(server: Server): void {
    for (const route of this.routes) server[route.method](route.path, this.wrap(route.handle));
  }

  /** Waits for every request in flight (shutdown): a turn the browser waits for is not cut off. */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private wrap(fn: (req: Request, res: Response) => Promise<void>) {
    return async (req: Request, res: Response) => {
      // Tokens and conversations: no cache may keep them (attachments set their own).
      res.setHeader('Cache-Control', 'no-store');
      const work = fn(req, res);
      this.pending.add(work);
      try {
        await work;
      } finally {
        this.pending.delete(work);
      }
    };
  }
}
