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
 * The person's activity is echoed into the stream with the id we gave it and its
 * `channelData.clientActivityID` (Web Chat marks it sent only then), before the bot's answers. One
 * conversation's activities are handled one after another; the engine's own lock serialises turns too.
 * The watermark hands out every activity once; the one deliberate exception is a pressed card, which
 * comes again under its own id and timestamp in its answered form, and Web Chat replaces it in place.
 *
 * A conversation token expires `tokenTtlSeconds` after it was issued (403 TokenExpired, as Azure's
 * Direct Line answers). A refresh issues a new one; the old one is still accepted for REFRESH_GRACE_MS
 * and then refused. A refresh also needs the site token (WEBCHAT_TOKEN) the conversation started under,
 * so after a change of it no conversation outlives its current token.
 */
import { scryptSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Request, Response, Server } from 'restify';
import type { Logger } from '../../log';
import type { ServerPlugin } from '../../server';
import { bearerToken, matchesHash, newId, newSecret, sha256, type SiteAccess } from './access';
import { cardKey, type ActivityLog, type DirectLineConversation, type LoggedActivity } from './activity-log';
import {
  botActivity,
  errorBody,
  oversizedField,
  type BotActivity,
  inboundActivity,
  startConversationBody,
  watermarkQuery,
  type DirectLineActivity,
  type DirectLineAttachment,
  type InboundActivity,
} from './protocol';
import { attachmentLinkBase, isInlineType, UploadTooLargeError, type StoredFile, type UploadStore } from './uploads';
import type { UploadQuota } from '../../limits/upload-quota';
import { DEFAULT_ORIGIN, type RequestOrigin } from '../../security/client';

export const DIRECT_LINE_CHANNEL_ID = 'directline';
export const BOT_ACCOUNT = { id: 'pce-support-bot', name: 'Support bot', role: 'bot' as const };

/** An activity's id in its conversation's stream: the conversation and a zero-padded sequence number. */
export function streamActivityId(conversationId: string, seq: number): string {
  return `${conversationId}|${String(seq).padStart(7, '0')}`;
}

/** Who and where of a bot message appended to a conversation's stream (replies and proactive notices). */
export function botActivityEnvelope(conversation: { id: string; userId: string }, seq: number, timestamp: string) {
  return {
    id: streamActivityId(conversation.id, seq),
    timestamp,
    channelId: DIRECT_LINE_CHANNEL_ID,
    conversation: { id: conversation.id },
    from: { ...BOT_ACCOUNT },
    recipient: { id: conversation.userId, role: 'user' as const },
  };
}

/**
 * A bot reply whose channelData carries this key (`{ step, prompt }` of a pressed card's submit data)
 * is not a new message: it replaces the bot's latest card that carried that submit data, under the
 * same id and timestamp, so Web Chat swaps the card in place (as Teams' updateActivity does).
 */
export const REPLACES_CARD = 'pce:replacesCard';

/** Names of the events the page sends; the bot side turns them into the engine's commands. */
export const PAGE_EVENTS = { setLanguage: 'webchat/setLanguage' } as const;

/**
 * Runs one activity through the bot and resolves with what the bot answered (plain JSON activities).
 * Implemented over botbuilder's CloudAdapter in src/channels/botframework/directline-bridge.ts.
 */
export interface BotBridge {
  process(activity: DirectLineActivity): Promise<unknown[]>;
}

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
  /** Per-conversation upload limits (src/limits/upload-quota.ts); without it only the per-upload size limit applies. */
  uploadQuota?: Pick<UploadQuota, 'reserve' | 'release'>;
  /** Whether a request came over HTTPS (for links to uploaded files); default: this machine's defaults. */
  origin?: RequestOrigin;
  /** PUBLIC_URL: links to uploaded files start with it. */
  publicUrl?: string;
}

const MAX_ACTIVITIES_PER_GET = 100;
const DEFAULT_TOKEN_TTL_SECONDS = 3600;
/**
 * How long the token a refresh replaced still works. Web Chat swaps tokens between requests, but a
 * poll or post already sent (it waits up to 20 s, and retries with the same token) must not fail, nor
 * a refresh retried because its answer was lost. Short, so a copied old token is soon worthless.
 */
export const REFRESH_GRACE_MS = 2 * 60_000;
/** What multipart framing and the `activity` part may add on top of the file limit. */
const UPLOAD_OVERHEAD_BYTES = 64 * 1024;
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
const CONVERSATION_ID = /^[A-Za-z0-9_-]{16,64}$/;

type ConversationAuth =
  | { ok: true; conversation: DirectLineConversation; expiresAt: number }
  | { ok: false; status: 400 | 403 | 404; code: string; message: string };

/** A presented token against a conversation: good until `expiresAt` (ms), expired, or not its token. */
type TokenCheck = { valid: true; expiresAt: number } | { valid: false; expired: boolean };

/**
 * What a conversation remembers of the site token it was started under: enough to notice a change,
 * not a plain hash a reader of the database could test guesses of a short token against quickly.
 */
export function siteKeyOf(siteToken: string | undefined): string {
  return siteToken ? scryptSync(siteToken, 'pce.directline.site-key', 16).toString('hex') : '';
}

export class DirectLineEndpoint {
  private readonly clock: () => Date;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly ttlMs: number;
  private readonly siteKey: string;

  constructor(private readonly deps: DirectLineDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.ttlMs = (deps.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS) * 1000;
    this.siteKey = deps.siteKey ?? '';
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
    server.post('/directline/conversations', this.wrap((req, res) => this.startConversation(req, res)));
    server.get('/directline/conversations/:conversationId', this.wrap((req, res) => this.reconnect(req, res)));
    server.post('/directline/tokens/refresh', this.wrap((req, res) => this.refreshToken(req, res)));
    server.post('/directline/conversations/:conversationId/activities', this.wrap((req, res) => this.postActivity(req, res)));
    server.get('/directline/conversations/:conversationId/activities', this.wrap((req, res) => this.getActivities(req, res)));
    server.post('/directline/conversations/:conversationId/upload', this.wrap((req, res) => this.upload(req, res)));
    server.get('/directline/attachments/:conversationId/:fileId', this.wrap((req, res) => this.attachment(req, res)));
  }

  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private wrap(fn: (req: Request, res: Response) => Promise<void>) {
    return async (req: Request, res: Response) => {
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

  // --- conversations -------------------------------------------------------------------------

  private async startConversation(req: Request, res: Response): Promise<void> {
    const token = bearerToken(req.headers);
    // A conversation token (what the page got earlier) resumes that conversation, as Direct Line does.
    const existing = token ? await this.conversationForToken(token) : undefined;
    if (existing) {
      res.send(200, this.conversationBody(existing.conversation, token!, existing.expiresAt));
      return;
    }
    if (!this.deps.access.allows(req, token)) {
      this.refuseSite(req, res);
      return;
    }
    const body = startConversationBody.safeParse(req.body === '' ? undefined : req.body);
    if (!body.success) {
      res.send(400, errorBody('BadArgument', 'The body is not a valid conversation request.'));
      return;
    }
    const proposedUser = body.data?.user?.id;
    const conversation: DirectLineConversation = {
      id: newId(18),
      secretHash: '',
      userId: webChatUserId(proposedUser),
      locale: body.data?.locale,
      createdAt: this.clock().toISOString(),
    };
    const secret = `${conversation.id}.${newSecret()}`;
    conversation.secretHash = sha256(secret);
    await this.deps.log.createConversation({ ...conversation, siteKey: this.siteKey });
    this.deps.logger.info({ conversation: conversation.id }, 'web chat conversation started');

    // The bot greets on conversationUpdate, as it would from Azure's Direct Line.
    await this.serial(conversation.id, () =>
      this.runBot(conversation, {
        type: 'conversationUpdate',
        id: `${conversation.id}|greeting`,
        timestamp: this.clock().toISOString(),
        channelId: DIRECT_LINE_CHANNEL_ID,
        conversation: { id: conversation.id },
        from: { id: conversation.userId, role: 'user' },
        recipient: { ...BOT_ACCOUNT },
        locale: conversation.locale,
        membersAdded: [{ id: BOT_ACCOUNT.id, name: BOT_ACCOUNT.name }, { id: conversation.userId }],
      }),
    );
    res.send(201, this.conversationBody(conversation, secret));
  }

  private async reconnect(req: Request, res: Response): Promise<void> {
    const auth = await this.authorise(req);
    if (!auth.ok) return this.refuse(res, auth);
    res.send(200, this.conversationBody(auth.conversation, bearerToken(req.headers)!, auth.expiresAt));
  }

  /**
   * A new token for the conversation of a valid one (the current token, or the one just replaced:
   * a refresh whose answer was lost is retried with it). The replaced token works REFRESH_GRACE_MS
   * more, never past its own expiry. Of two refreshes at once each gets its own new token, the later
   * one current; the page's tabs share the newest through localStorage.
   */
  private async refreshToken(req: Request, res: Response): Promise<void> {
    const token = bearerToken(req.headers);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const found = token ? await this.conversationForToken(token) : undefined;
      if (!found) {
        res.send(403, errorBody('TokenExpired', 'The token is not valid for any conversation, or has expired.'));
        return;
      }
      const { conversation } = found;
      // Absent: started before site keys were kept; it counts as started under today's site token.
      if (conversation.siteKey !== undefined && conversation.siteKey !== this.siteKey) {
        this.deps.logger.info({ conversation: conversation.id }, 'web chat token refresh refused: the site token changed since the conversation started');
        res.send(403, errorBody('Forbidden', 'The web chat token has changed since this conversation started; start a new conversation.'));
        return;
      }
      const now = this.clock().getTime();
      const secret = `${conversation.id}.${newSecret()}`;
      const rotated = await this.deps.log.rotateSecret(conversation.id, {
        expectedHash: conversation.secretHash,
        secretHash: sha256(secret),
        issuedAt: new Date(now).toISOString(),
        previousSecretHash: conversation.secretHash,
        previousSecretUntil: new Date(Math.min(now + REFRESH_GRACE_MS, this.expiryOf(conversation))).toISOString(),
        siteKey: this.siteKey,
      });
      if (rotated) {
        res.send(200, this.conversationBody(conversation, secret, now + this.ttlMs));
        return;
      }
      // Another refresh replaced the secret between our read and write: read it again.
    }
    res.send(409, errorBody('Conflict', 'The token was refreshed elsewhere at the same time; try again.'));
  }

  /** When the conversation's current secret expires (ms since the epoch). */
  private expiryOf(conversation: DirectLineConversation): number {
    return Date.parse(conversation.secretIssuedAt ?? conversation.createdAt) + this.ttlMs;
  }

  private conversationBody(conversation: DirectLineConversation, token: string, expiresAt = this.expiryOf(conversation)) {
    return {
      conversationId: conversation.id,
      token,
      expires_in: Math.max(0, Math.floor((expiresAt - this.clock().getTime()) / 1000)),
      // Not part of Direct Line: the page passes it to Web Chat as `userID` so its own messages line up.
      userId: conversation.userId,
    };
  }

  // --- activities ----------------------------------------------------------------------------

  private async postActivity(req: Request, res: Response): Promise<void> {
    const auth = await this.authorise(req);
    if (!auth.ok) return this.refuse(res, auth);
    const oversized = oversizedField(req.body, (req as { rawBody?: unknown }).rawBody);
    if (oversized) {
      this.deps.logger.info({ conversation: auth.conversation.id, field: oversized }, 'web chat activity refused: too large');
      res.send(413, errorBody('MessageSizeTooBig', `The activity's ${oversized} is larger than this endpoint accepts.`));
      return;
    }
    const parsed = inboundActivity.safeParse(req.body);
    if (!parsed.success) {
      res.send(400, errorBody('BadArgument', 'The body is not a valid activity.'));
      return;
    }
    const id = await this.accept(auth.conversation, parsed.data, []);
    res.send(200, { id });
  }

  private async getActivities(req: Request, res: Response): Promise<void> {
    const auth = await this.authorise(req);
    if (!auth.ok) return this.refuse(res, auth);
    const after = watermarkQuery.safeParse(typeof req.query?.watermark === 'string' ? req.query.watermark : undefined);
    if (!after.success) {
      res.send(400, errorBody('BadArgument', 'The watermark is not one this endpoint handed out.'));
      return;
    }
    const entries = await this.deps.log.since(auth.conversation.id, after.data, MAX_ACTIVITIES_PER_GET);
    const last = entries.at(-1)?.seq ?? after.data;
    res.send(200, { activities: entries.map((e) => e.activity), watermark: String(last) });
  }

  /**
   * Echoes the person's activity and runs the bot on it, one activity of a conversation at a time.
   * A retried post (same clientActivityID) is answered with the first one's id and not run again.
   */
  private accept(conversation: DirectLineConversation, inbound: InboundActivity, files: StoredFile[], base = ''): Promise<string> {
    // What the bot ignores (typing, events other than the page's, …) is acknowledged but neither kept
    // nor sent to the bot: it would only grow the log.
    if (!botActsOn(inbound)) return Promise.resolve(`${conversation.id}|${inbound.type}-${newId(6)}`);
    return this.serial(conversation.id, async () => {
      const clientActivityId = inbound.channelData?.clientActivityID;
      if (clientActivityId) {
        const seen = await this.deps.log.findByClientActivityId(conversation.id, clientActivityId);
        if (seen) return seen.activity.id;
      }
      const now = this.clock().toISOString();
      const attachments: DirectLineAttachment[] = files.map((f) => ({
        contentType: f.contentType,
        contentUrl: `${base}${f.path}`,
        name: f.name,
        // Web Chat shows the person's own image as a picture only when it has a thumbnail.
        ...(f.contentType.startsWith('image/') && isInlineType(f.contentType) ? { thumbnailUrl: `${base}${f.path}` } : {}),
      }));
      const [echo] = (await this.deps.log.append(conversation.id, 1, (seq) => ({
        type: inbound.type,
        id: streamActivityId(conversation.id, seq),
        timestamp: now,
        channelId: DIRECT_LINE_CHANNEL_ID,
        conversation: { id: conversation.id },
        // The conversation's user, whatever the body claims: a browser cannot speak for someone else.
        from: { id: conversation.userId, name: inbound.from?.name, role: 'user' },
        recipient: { ...BOT_ACCOUNT },
        // What a person typed is shown as they typed it: never as markdown or markup of their choosing.
        ...(inbound.text !== undefined ? { text: inbound.text, textFormat: 'plain' } : {}),
        ...(inbound.locale ? { locale: inbound.locale } : {}),
        ...(inbound.name ? { name: inbound.name } : {}),
        ...(inbound.value !== undefined ? { value: inbound.value } : {}),
        ...(attachments.length ? { attachments } : {}),
        channelData: {
          ...(clientActivityId ? { clientActivityID: clientActivityId } : {}),
          ...(inbound.channelData?.clientTimestamp ? { clientTimestamp: inbound.channelData.clientTimestamp } : {}),
          ...(files.length ? { attachmentSizes: files.map((f) => f.size) } : {}),
        },
      }))) as [LoggedActivity];
      await this.runBot(conversation, echo.activity);
      return echo.activity.id;
    });
  }

  /** Runs the bot and appends its answers; a failing bot is logged, the person's activity stays accepted. */
  private async runBot(conversation: DirectLineConversation, activity: DirectLineActivity): Promise<void> {
    let replies: unknown[];
    try {
      replies = await this.deps.bridge.process(activity);
    } catch (err) {
      this.deps.logger.error({ err, conversation: conversation.id, activity: activity.id }, 'web chat turn failed');
      return;
    }
    const valid = replies.flatMap((r) => {
      const parsed = botActivity.safeParse(r);
      if (!parsed.success) this.deps.logger.warn({ conversation: conversation.id }, 'bot answered with an invalid activity; dropped');
      return parsed.success ? [parsed.data] : [];
    });
    const updates = await this.cardUpdates(conversation.id, valid.filter(isCardReplacement));
    const fresh = valid.filter((r) => !isCardReplacement(r));
    if (updates.length) await this.deps.log.append(conversation.id, updates.length, (_seq, i) => updates[i]!);
    if (!fresh.length) return;
    const now = this.clock().toISOString();
    await this.deps.log.append(conversation.id, fresh.length, (seq, i) => {
      const reply = fresh[i]!;
      return {
        ...pick(reply, REPLY_FIELDS),
        type: reply.type,
        ...botActivityEnvelope(conversation, seq, now),
        replyToId: activity.id,
      };
    });
  }

  /** The replaced versions of pressed cards: same id, timestamp and place; content from the bot. */
  private async cardUpdates(conversationId: string, replacements: BotActivity[]): Promise<DirectLineActivity[]> {
    const out: DirectLineActivity[] = [];
    for (const replacement of replacements) {
      const original = (await this.deps.log.findCard(conversationId, cardKey(replacementTarget(replacement))))?.activity;
      if (!original) continue;
      out.push({ ...original, attachments: replacement.attachments as DirectLineAttachment[] | undefined, suggestedActions: undefined });
    }
    return out;
  }

  // --- uploads -------------------------------------------------------------------------------

  private async upload(req: Request, res: Response): Promise<void> {
    const auth = await this.authorise(req);
    if (!auth.ok) return this.refuse(res, auth);
    const contentType = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data\s*;/i.test(contentType)) {
      res.send(415, errorBody('BadArgument', 'Uploads are multipart/form-data.'));
      return;
    }
    const limit = this.deps.uploads.maxBytes;
    let form: FormData;
    try {
      const raw = await readLimited(req, limit + UPLOAD_OVERHEAD_BYTES, limit);
      form = await new globalThis.Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
    } catch (err) {
      if (err instanceof UploadTooLargeError) {
        res.send(413, errorBody('MessageSizeTooBig', `Files may be at most ${limit} bytes.`));
        return;
      }
      res.send(400, errorBody('BadArgument', 'The upload could not be read.'));
      return;
    }
    let inbound: InboundActivity = { type: 'message' };
    const activityPart = form.get('activity');
    if (activityPart !== null) {
      const text = typeof activityPart === 'string' ? activityPart : await activityPart.text();
      const parsed = safeJson(text);
      const activity = inboundActivity.safeParse(parsed);
      if (!activity.success || activity.data.type !== 'message') {
        res.send(400, errorBody('BadArgument', 'The activity part is not a valid message.'));
        return;
      }
      inbound = activity.data;
    }
    const files = form.getAll('file').filter((f): f is File => typeof f !== 'string');
    if (!files.length) {
      res.send(400, errorBody('BadArgument', 'No file part in the upload.'));
      return;
    }
    if (files.some((f) => f.size > limit) || files.reduce((n, f) => n + f.size, 0) > limit) {
      res.send(413, errorBody('MessageSizeTooBig', `Files may be at most ${limit} bytes.`));
      return;
    }
    const now = this.clock();
    // Reserved before anything is written: parallel uploads cannot all pass one check together.
    const quota = await this.deps.uploadQuota?.reserve(auth.conversation.id, files.map((f) => f.size), now);
    if (quota && !quota.allowed) {
      this.deps.logger.info({ conversation: auth.conversation.id, retryAfterSeconds: quota.retryAfterSeconds }, 'web chat upload refused: conversation upload limit');
      res.setHeader('Retry-After', String(quota.retryAfterSeconds));
      res.send(429, errorBody('TooManyRequests', 'This conversation has uploaded as much as it may for now; try again after Retry-After seconds.'));
      return;
    }
    const stored: StoredFile[] = [];
    try {
      for (const file of files) {
        stored.push(
          await this.deps.uploads.save(auth.conversation.id, { name: file.name, contentType: file.type, data: new Uint8Array(await file.arrayBuffer()) }, now),
        );
      }
    } catch (err) {
      // None of this upload is kept, so none of it counts against the conversation.
      await this.deps.uploads.discard(auth.conversation.id, stored.map((f) => f.id)).catch(() => undefined);
      if (quota?.allowed) await this.deps.uploadQuota!.release(quota.reservation).catch(() => undefined);
      this.deps.logger.error({ err, conversation: auth.conversation.id }, 'web chat upload could not be stored');
      res.send(500, errorBody('ServiceError', 'The upload could not be stored.'));
      return;
    }
    this.deps.logger.info({ conversation: auth.conversation.id, files: stored.length, bytes: stored.reduce((n, f) => n + f.size, 0) }, 'web chat upload stored');
    const base = publicBase(req, this.deps);
    if (!base) this.deps.logger.info({ conversation: auth.conversation.id }, 'web chat upload linked by path only: set PUBLIC_URL so links in cases name this bot');
    const id = await this.accept(auth.conversation, { ...inbound, attachments: undefined }, stored, base);
    res.send(200, { id });
  }

  private async attachment(req: Request, res: Response): Promise<void> {
    const conversationId = String(req.params?.conversationId ?? '');
    const file = await this.deps.uploads.load(conversationId, String(req.params?.fileId ?? ''));
    if (!file) {
      res.send(404, errorBody('NotFound', 'No such file.'));
      return;
    }
    const inline = isInlineType(file.meta.contentType);
    res.writeHead(200, {
      'Content-Type': inline ? file.meta.contentType : 'application/octet-stream',
      'Content-Length': file.data.byteLength,
      'Content-Disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.meta.name)}`,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'private, max-age=86400',
    });
    res.end(file.data);
  }

  // --- access --------------------------------------------------------------------------------

  /** The conversation a token is valid for now, and when it expires. */
  private async conversationForToken(token: string): Promise<{ conversation: DirectLineConversation; expiresAt: number } | undefined> {
    const id = token.split('.')[0] ?? '';
    if (!CONVERSATION_ID.test(id)) return undefined;
    const conversation = await this.deps.log.getConversation(id);
    const check = conversation && this.checkToken(conversation, token);
    return check?.valid ? { conversation: conversation!, expiresAt: check.expiresAt } : undefined;
  }

  /** The current secret until its TTL is up; the one a refresh replaced until its grace is up. */
  private checkToken(conversation: DirectLineConversation, token: string | undefined): TokenCheck {
    const now = this.clock().getTime();
    let expiresAt: number;
    if (matchesHash(token, conversation.secretHash)) expiresAt = this.expiryOf(conversation);
    else if (conversation.previousSecretHash && matchesHash(token, conversation.previousSecretHash)) expiresAt = Date.parse(conversation.previousSecretUntil ?? '');
    else return { valid: false, expired: false };
    // NaN (an unreadable time) compares false: refused as expired.
    return now < expiresAt ? { valid: true, expiresAt } : { valid: false, expired: true };
  }

  /** Unknown conversation → 404; known but without its own token → 403; its token expired → 403 TokenExpired. */
  private async authorise(req: Request): Promise<ConversationAuth> {
    const id = String(req.params?.conversationId ?? '');
    const conversation = CONVERSATION_ID.test(id) ? await this.deps.log.getConversation(id) : undefined;
    if (!conversation) return { ok: false, status: 404, code: 'BadArgument', message: 'Conversation not found.' };
    const check = this.checkToken(conversation, bearerToken(req.headers));
    if (!check.valid) {
      return check.expired
        ? { ok: false, status: 403, code: 'TokenExpired', message: 'The token has expired; refresh tokens before they do, or start a new conversation.' }
        : { ok: false, status: 403, code: 'Forbidden', message: "This conversation's token is required." };
    }
    return { ok: true, conversation, expiresAt: check.expiresAt };
  }

  private refuse(res: Response, auth: Exclude<ConversationAuth, { ok: true }>): void {
    res.send(auth.status, errorBody(auth.code, auth.message));
  }

  private refuseSite(req: Request, res: Response): void {
    const local = this.deps.access.isLocal(req);
    this.deps.logger.info({ local, tokenConfigured: this.deps.access.tokenConfigured }, 'web chat conversation refused: no valid site token');
    res.send(
      403,
      errorBody(
        'Forbidden',
        this.deps.access.tokenConfigured
          ? 'A valid web chat token is required from outside this machine.'
          : 'The web chat answers only this machine until WEBCHAT_TOKEN is set.',
      ),
    );
  }

  /** Runs `fn` after every earlier call for the same conversation has settled. */
  private serial<T>(conversationId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(conversationId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.queues.set(conversationId, tail);
    void tail.then(() => {
      if (this.queues.get(conversationId) === tail) this.queues.delete(conversationId);
    });
    return next;
  }
}

/** Reads the request body, failing fast once it passes `limit` bytes (or declares more). */
function readLimited(req: IncomingMessage, limit: number, fileLimit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new UploadTooLargeError(fileLimit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new UploadTooLargeError(fileLimit));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/**
 * Does the bot act on this activity? Messages, and the page's own events (the language switch with a
 * language); the bridge drops anything else, so keeping it would only let a browser fill the log.
 */
function botActsOn(inbound: InboundActivity): boolean {
  if (inbound.type === 'message') return true;
  return inbound.type === 'event' && inbound.name === PAGE_EVENTS.setLanguage && typeof inbound.value === 'string' && inbound.value.length <= 20;
}

function isCardReplacement(reply: BotActivity): boolean {
  return reply.channelData?.[REPLACES_CARD] !== undefined;
}

function replacementTarget(reply: BotActivity): { step?: unknown; prompt?: unknown } {
  const target = reply.channelData?.[REPLACES_CARD];
  return typeof target === 'object' && target !== null ? (target as { step?: unknown; prompt?: unknown }) : {};
}

/** What the browser gets from a bot reply; routing fields (serviceUrl, recipient, …) are ours to set. */
const REPLY_FIELDS = [
  'text',
  'textFormat',
  'locale',
  'name',
  'value',
  'attachments',
  'attachmentLayout',
  'suggestedActions',
  'inputHint',
  'speak',
  'summary',
  'entities',
  'channelData',
] as const;

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined && source[k] !== null).map((k) => [k, source[k]]));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Where links to uploaded files start: PUBLIC_URL, a loopback Host, or '' (a path); see `attachmentLinkBase`. */
function publicBase(req: Request, deps: Pick<DirectLineDeps, 'origin' | 'publicUrl'>): string {
  return attachmentLinkBase(req, deps.origin ?? DEFAULT_ORIGIN, deps.publicUrl);
}
