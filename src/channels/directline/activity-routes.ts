/**
 * A conversation's activities:
 *
 *   POST /directline/conversations/:id/activities                answer `{ id }` once the bot has answered
 *   GET  /directline/conversations/:id/activities?watermark=N    everything after N, and the new watermark
 */
import type { Request, Response } from 'restify';
import { errorBody, inboundActivity, oversizedField, watermarkQuery } from './protocol';
import { refuse, type Route, type RouteContext } from './routing';

/** Bounds one answer; a reader far behind gets the rest with its next polls (the watermark says from where). */
const MAX_ACTIVITIES_PER_GET = 100;

export function activityRoutes(ctx: RouteContext): Route[] {
  async function post(req: Request, res: Response): Promise<void> {
    const auth = await ctx.tokens.authorise(req);
    if (!auth.ok) return refuse(res, auth);
    const oversized = oversizedField(req.body, (req as { rawBody?: unknown }).rawBody);
    if (oversized) {
      ctx.logger.info({ conversation: auth.conversation.id, field: oversized }, 'web chat activity refused: too large');
      res.send(413, errorBody('MessageSizeTooBig', `The activity's ${oversized} is larger than this endpoint accepts.`));
      return;
    }
    const parsed = inboundActivity.safeParse(req.body);
    if (!parsed.success) {
      res.send(400, errorBody('BadArgument', 'The body is not a valid activity.'));
      return;
    }
    const id = await ctx.turns.accept(auth.conversation, parsed.data, []);
    res.send(200, { id });
  }

  async function list(req: Request, res: Response): Promise<void> {
    const auth = await ctx.tokens.authorise(req);
    if (!auth.ok) return refuse(res, auth);
    const after = watermarkQuery.safeParse(typeof req.query?.watermark === 'string' ? req.query.watermark : undefined);
    if (!after.success) {
      res.send(400, errorBody('BadArgument', 'The watermark is not one this endpoint handed out.'));
      return;
    }
    const entries = await ctx.log.since(auth.conversation.id, after.data, MAX_ACTIVITIES_PER_GET);
    const last = entries.at(-1)?.seq ?? after.data;
    res.send(200, { activities: entries.map((e) => e.activity), watermark: String(last) });
  }

  return [
    { method: 'post', path: '/directline/conversations/:conversationId/activities', handle: post },
    { method: 'get', path: '/directline/conversations/:conversationId/activities', handle: list },
  ];
}
