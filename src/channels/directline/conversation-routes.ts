/**
 * Starting, resuming and refreshing a conversation:
 *
 *   POST /directline/conversations            start (or, with a conversation token, resume)
 *   GET  /directline/conversations/:id        reconnect (what the client calls when given an id)
 *   POST /directline/tokens/refresh           the client's refresh loop: a new token for the conversation
 */
import type { Request, Response } from 'restify';
import { bearerToken, newId, sha256 } from './access';
import type { DirectLineConversation } from './activity-log';
import { errorBody, startConversationBody } from './protocol';
import { refuse, type Route, type RouteContext } from './routing';

const USER_ID = /^wc_[A-Za-z0-9_-]{16,64}$/;

/**
 * The conversation's user id. The browser keeps a random secret of its own and proposes it; the id is
 * a hash of it, so the same browser is the same person next time (its language, its cases) while
 * knowing someone's id (a case record shows it) does not let anyone speak as them. Anything else
 * gets a fresh random id.
 */
export function webChatUserId(proposed: string | undefined): string {
  if (!proposed || !USER_ID.test(proposed)) return `wc_${newId(18)}`;
  return `wu_${sha256(`webchat-user:${proposed}`).slice(0, 40)}`;
}

export function conversationRoutes(ctx: RouteContext): Route[] {
  const { tokens, logger } = ctx;

  function conversationBody(conversation: DirectLineConversation, token: string, expiresAt = tokens.expiryOf(conversation)) {
    return {
      conversationId: conversation.id,
      token,
      expires_in: Math.max(0, Math.floor((expiresAt - ctx.clock().getTime()) / 1000)),
      // Not part of Direct Line: the page passes it to Web Chat as `userID` so its own messages line up.
      userId: conversation.userId,
    };
  }

  function refuseSite(req: Request, res: Response): void {
    const local = ctx.access.isLocal(req);
    logger.info({ local, tokenConfigured: ctx.access.tokenConfigured }, 'web chat conversation refused: no valid site token');
    res.send(
      403,
      errorBody(
        'Forbidden',
        ctx.access.tokenConfigured
          ? 'A valid web chat token is required from outside this machine.'
          : 'The web chat answers only this machine until WEBCHAT_TOKEN is set.',
      ),
    );
  }

  async function start(req: Request, res: Response): Promise<void> {
    const token = bearerToken(req.headers);
    // A conversation token (what the page got earlier) resumes that conversation, as Direct Line does.
    const existing = token ? await tokens.conversationFor(token) : undefined;
    if (existing) {
      res.send(200, conversationBody(existing.conversation, token!, existing.expiresAt));
      return;
    }
    if (!ctx.access.allows(req, token)) {
      refuseSite(req, res);
      return;
    }
    const body = startConversationBody.safeParse(req.body === '' ? undefined : req.body);
    if (!body.success) {
      res.send(400, errorBody('BadArgument', 'The body is not a valid conversation request.'));
      return;
    }
    const conversation: DirectLineConversation = {
      id: newId(18),
      secretHash: '',
      userId: webChatUserId(body.data?.user?.id),
      locale: body.data?.locale,
      createdAt: ctx.clock().toISOString(),
    };
    const issued = tokens.issue(conversation.id);
    conversation.secretHash = issued.hash;
    await ctx.log.createConversation({ ...conversation, siteKey: tokens.siteKey });
    logger.info({ conversation: conversation.id }, 'web chat conversation started');
    await ctx.turns.greet(conversation);
    res.send(201, conversationBody(conversation, issued.token));
  }

  async function reconnect(req: Request, res: Response): Promise<void> {
    const auth = await tokens.authorise(req);
    if (!auth.ok) return refuse(res, auth);
    res.send(200, conversationBody(auth.conversation, bearerToken(req.headers)!, auth.expiresAt));
  }

  async function refresh(req: Request, res: Response): Promise<void> {
    const result = await tokens.refresh(bearerToken(req.headers));
    switch (result.outcome) {
      case 'issued':
        res.send(200, conversationBody(result.conversation, result.token, result.expiresAt));
        return;
      case 'invalid':
        res.send(403, errorBody('TokenExpired', 'The token is not valid for any conversation, or has expired.'));
        return;
      case 'siteChanged':
        logger.info({ conversation: result.conversation.id }, 'web chat token refresh refused: the site token changed since the conversation started');
        res.send(403, errorBody('Forbidden', 'The web chat token has changed since this conversation started; start a new conversation.'));
        return;
      case 'conflict':
        res.send(409, errorBody('Conflict', 'The token was refreshed elsewhere at the same time; try again.'));
    }
  }

  return [
    { method: 'post', path: '/directline/conversations', handle: start },
    { method: 'get', path: '/directline/conversations/:conversationId', handle: reconnect },
    { method: 'post', path: '/directline/tokens/refresh', handle: refresh },
  ];
}
