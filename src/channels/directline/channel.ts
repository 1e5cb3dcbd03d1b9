/**
 * A local Direct Line 3.0 endpoint, enough for Web Chat's own client with `webSocket: false`:
 *
 *   POST /directline/conversations                       start (or, with a conversation token, resume)
 *   GET  /directline/conversations/:id                   reconnect (what the client calls when given an id)
 *   POST /directline/tokens/refresh                      the client's refresh loop; the token stays valid
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
 */
import type { IncomingMessage } from 'node:http';
import type { Request, Response, Server } from 'restify';
import type { Logger } from '../../log';
import type { ServerPlugin } from '../../server';
import { bearerToken, matchesHash, newId, newSecret, sha256, type SiteAccess } from './access';
import type { ActivityLog, DirectLineConversation, LoggedActivity } from './activity-log';
import {
  botActivity,
  errorBody,
  type BotActivity,
  inboundActivity,
  startConversationBody,
  watermarkQuery,
  type DirectLineActivity,
  type DirectLineAttachment,
  type InboundActivity,
} from './protocol';
import { isInlineType, UploadTooLargeError, type StoredFile, type UploadStore } from './uploads';

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
  /** Seconds we tell the client its token lasts; the client refreshes well before. */
  tokenTtlSeconds?: number;
  /** Per-conversation upload limits (src/limits/upload-quota.ts); without it only the per-upload size limit applies. */
  uploadQuota?: {
    check(conversationId: string, incoming: readonly number[], now: Date): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
  };
}

const MAX_ACTIVITIES_PER_GET = 100;
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
  | { ok: true; conversation: DirectLineConversation }
  | { ok: false; status: 400 | 403 | 404; code: string; message: string };

export class DirectLineEndpoint {
  private readonly clock: () => Date;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly deps: DirectLineDeps) {
    this.clock = deps.clock ?? (() => new Date());
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
      res.send(200, this.conversationBody(existing, token!));
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
    await this.deps.log.createConversation(conversation);
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
    res.send(200, this.conversationBody(auth.conversation, bearerToken(req.headers)!));
  }

  private async refreshToken(req: Request, res: Response): Promise<void> {
    const token = bearerToken(req.headers);
    const conversation = token ? await this.conversationForToken(token) : undefined;
    if (!conversation) {
      res.send(403, errorBody('TokenExpired', 'The token is not valid for any conversation.'));
      return;
    }
    res.send(200, this.conversationBody(conversation, token!));
  }

  private conversationBody(conversation: DirectLineConversation, token: string) {
    return {
      conversationId: conversation.id,
      token,
      expires_in: this.deps.tokenTtlSeconds ?? 3600,
      // Not part of Direct Line: the page passes it to Web Chat as `userID` so its own messages line up.
      userId: conversation.userId,
    };
  }

  // --- activities ----------------------------------------------------------------------------

  private async postActivity(req: Request, res: Response): Promise<void> {
    const auth = await this.authorise(req);
    if (!auth.ok) return this.refuse(res, auth);
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
    // Typing indicators are acknowledged but neither kept nor sent to the bot: they would only grow the log.
    if (inbound.type === 'typing') return Promise.resolve(`${conversation.id}|typing-${newId(6)}`);
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
        ...(inbound.text !== undefined ? { text: inbound.text } : {}),
        ...(inbound.textFormat ? { textFormat: inbound.textFormat } : {}),
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
      if (inbound.type === 'message' || inbound.type === 'event') {
        await this.runBot(conversation, echo.activity);
      }
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
    if (!replacements.length) return [];
    const history = await this.deps.log.since(conversationId, 0, MAX_HISTORY_SCAN);
    const out: DirectLineActivity[] = [];
    for (const replacement of replacements) {
      const target = replacementTarget(replacement);
      const original = [...history].reverse().find((e) => e.activity.from.role === 'bot' && cardCarries(e.activity, target))?.activity;
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
    const quota = await this.deps.uploadQuota?.check(auth.conversation.id, files.map((f) => f.size), now);
    if (quota && !quota.allowed) {
      this.deps.logger.info({ conversation: auth.conversation.id, retryAfterSeconds: quota.retryAfterSeconds }, 'web chat upload refused: conversation upload limit');
      res.setHeader('Retry-After', String(quota.retryAfterSeconds));
      res.send(429, errorBody('TooManyRequests', 'This conversation has uploaded as much as it may for now; try again after Retry-After seconds.'));
      return;
    }
    const stored: StoredFile[] = [];
    for (const file of files) {
      stored.push(
        await this.deps.uploads.save(auth.conversation.id, { name: file.name, contentType: file.type, data: new Uint8Array(await file.arrayBuffer()) }, now),
      );
    }
    this.deps.logger.info({ conversation: auth.conversation.id, files: stored.length, bytes: stored.reduce((n, f) => n + f.size, 0) }, 'web chat upload stored');
    const id = await this.accept(auth.conversation, { ...inbound, attachments: undefined }, stored, publicBase(req));
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

  private async conversationForToken(token: string): Promise<DirectLineConversation | undefined> {
    const id = token.split('.')[0] ?? '';
    if (!CONVERSATION_ID.test(id)) return undefined;
    const conversation = await this.deps.log.getConversation(id);
    return conversation && matchesHash(token, conversation.secretHash) ? conversation : undefined;
  }

  /** Unknown conversation → 404; known but without its own token → 403. */
  private async authorise(req: Request): Promise<ConversationAuth> {
    const id = String(req.params?.conversationId ?? '');
    const conversation = CONVERSATION_ID.test(id) ? await this.deps.log.getConversation(id) : undefined;
    if (!conversation) return { ok: false, status: 404, code: 'BadArgument', message: 'Conversation not found.' };
    if (!matchesHash(bearerToken(req.headers), conversation.secretHash)) {
      return { ok: false, status: 403, code: 'Forbidden', message: "This conversation's token is required." };
    }
    return { ok: true, conversation };
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

const MAX_HISTORY_SCAN = 1000;

function isCardReplacement(reply: BotActivity): boolean {
  return reply.channelData?.[REPLACES_CARD] !== undefined;
}

function replacementTarget(reply: BotActivity): { step?: unknown; prompt?: unknown } {
  const target = reply.channelData?.[REPLACES_CARD];
  return typeof target === 'object' && target !== null ? (target as { step?: unknown; prompt?: unknown }) : {};
}

/** Does one of the activity's Adaptive Cards have a submit button carrying this step and prompt? */
function cardCarries(activity: DirectLineActivity, target: { step?: unknown; prompt?: unknown }): boolean {
  return (activity.attachments ?? []).some((a) => {
    const actions = (a.content as { actions?: unknown } | undefined)?.actions;
    return (
      a.contentType === 'application/vnd.microsoft.card.adaptive' &&
      Array.isArray(actions) &&
      actions.some((action: { type?: unknown; data?: { step?: unknown; prompt?: unknown } }) => {
        return action?.type === 'Action.Submit' && action.data?.step === target.step && action.data?.prompt === target.prompt;
      })
    );
  });
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

/** `http://host:port` as the browser reached us, for absolute attachment URLs. */
function publicBase(req: Request): string {
  const host = req.headers.host ?? '';
  if (!/^[A-Za-z0-9.:[\]-]{1,255}$/.test(host)) return '';
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = forwarded === 'https' || (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return `${proto}://${host}`;
}
