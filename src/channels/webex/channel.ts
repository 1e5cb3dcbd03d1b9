/**
 * The Webex channel: `POST /api/webex` receives webhook notifications, answers 2xx at once and runs
 * the turn afterwards, in arrival order per space.
 *
 * Why a thin adapter of our own rather than a package from npm (evaluated for issue 4):
 * - `botbuilder-adapter-webex` (1.0.x, from howdyai/botkit; needs `botkit` ^4.15, the last botkit
 *   release, and `botbuilder`): answers 200 first and then checks X-Spark-Signature against
 *   `JSON.stringify(req.body)` — a re-serialised body, not the bytes Webex signed — with `!==`
 *   (not constant time), so a forgery is never told 401. It fetches the bot's own messages before
 *   noticing they are its own, passes `attachmentActions` on as a bare event without reading the
 *   inputs, and would bring botbuilder outside src/channels/botframework/ plus the whole `webex` SDK.
 * - `webex-node-bot-framework` (2.3.x, WebexCommunity): the same `JSON.stringify` + `!==` check,
 *   invalid signatures silently dropped after a 200; it pins the `webex` SDK 2.4.2 and mongodb 3,
 *   keeps its own per-space bot objects and storage, and would own the conversation model that our
 *   engine already owns (one store, one turn discipline, dedupe on data.id, card retirement).
 * What the bot needs from Webex is a handful of REST calls and one HMAC check: `api.ts`,
 * `signature.ts` and this file, tested against a local fake speaking the same protocol, are
 * smaller than either dependency and verify the signature the way Webex documents it.
 */
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import type { Inbound, Locale, TurnResult } from '../../engine/types';
import type { Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { ServerPlugin } from '../../server';
import type { Store } from '../../storage/store';
import type { AttachmentRef } from '../../../dialogs/flow';
import { WebexApi, type WebexMessage, type WebexPerson } from './api';
import { renderMessage, renderNote } from './render';
import { SIGNATURE_HEADER, WebexWebhookVerifier } from './signature';

export const WEBEX_ROUTE = '/api/webex';
export const WEBEX_CHANNEL_ID = 'webex';

/** What the channel needs from the engine. */
export interface TurnHandler {
  handle(inbound: Inbound): Promise<TurnResult>;
}

export interface WebexChannelOptions {
  api: WebexApi;
  engine: TurnHandler;
  store: Store;
  translator: Translator;
  logger: Logger;
  /** The webhooks' secret. Unset only with `insecureDev` (local experiments): nothing is verified. */
  secret?: string;
  insecureDev?: boolean;
  maxBodyBytes: number;
}

const notificationSchema = z.looseObject({
  id: z.string().optional(),
  resource: z.string(),
  event: z.string(),
  data: z.looseObject({
    id: z.string().min(1),
    roomId: z.string().optional(),
    roomType: z.string().optional(),
    personId: z.string().optional(),
    messageId: z.string().optional(),
  }),
});
type Notification = z.infer<typeof notificationSchema>;

/** Card inputs: Action.Submit data `{ choice, step }` merged with Input.* values (`text`). */
const submitInputs = z.looseObject({
  choice: z.string().min(1).max(200).optional(),
  step: z.string().min(1).max(200).optional(),
  text: z.string().max(4000).optional(),
});

const CYRILLIC = /\p{Script=Cyrillic}/u;
const MAX_FILES = 5;
const MAX_REMEMBERED_EMAILS = 10_000;

export class WebexChannel implements ServerPlugin {
  readonly name = 'webex';
  private readonly verifier?: WebexWebhookVerifier;
  /** Raw request bytes captured before restify's body parser turns them into a string. */
  private readonly rawBodies = new WeakMap<Request, Buffer>();
  /** Per-space chain: notifications of one space are handled (and answered) in arrival order. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();
  /** Person id -> email from messages seen (card submissions carry no email). */
  private readonly emails = new Map<string, string>();
  private botPromise?: Promise<WebexPerson>;

  constructor(private readonly opts: WebexChannelOptions) {
    if (opts.secret) this.verifier = new WebexWebhookVerifier(opts.secret);
    else if (!opts.insecureDev) throw new Error('The Webex channel needs a webhook secret (WEBEX_WEBHOOK_SECRET) unless WEBEX_INSECURE_DEV is on');
    else opts.logger.warn('Webex: WEBEX_INSECURE_DEV is on and no secret is set: notifications are NOT verified');
  }

  register(server: Server): void {
    // Learn who we are now, so a wrong token shows in the start-up log rather than at the first message.
    this.start().catch((err: unknown) =>
      this.opts.logger.warn({ err }, 'Webex: GET /people/me failed; the bot identity is fetched again with the first notification'),
    );
    // Before routing (and so before the shared body parser) read the exact bytes: the signature is
    // over them, and restify's reader keeps only a UTF-8 decoded string. The signature is checked
    // here too, so an unsigned or forged request is answered 401 before anything parses its body.
    server.pre((req: Request, res: Response, next: (arg?: false) => void) => {
      if (req.method !== 'POST' || req.getPath() !== WEBEX_ROUTE) return next();
      this.readRaw(req).then(
        (raw) => {
          if (raw === 'too_large') {
            res.send(413, { code: 'PayloadTooLarge', message: `Request body exceeds ${this.opts.maxBodyBytes} bytes` });
            return next(false);
          }
          if (this.verifier && !this.verifier.verify(raw, req.headers[SIGNATURE_HEADER])) {
            this.opts.logger.warn({ signed: SIGNATURE_HEADER in req.headers, bytes: raw.length }, 'Webex notification with a bad or missing signature rejected');
            res.send(401, { code: 'Unauthorized', message: 'Missing or invalid X-Spark-Signature' });
            return next(false);
          }
          this.rawBodies.set(req, raw);
          // Tell restify's bodyReader the body has been read; jsonBodyParser still gets the text.
          Object.assign(req, { _readBody: true, body: raw.toString('utf8') });
          next();
        },
        () => {
          res.send(400, { code: 'BadRequest', message: 'The request body could not be read' });
          next(false);
        },
      );
    });

    server.post(WEBEX_ROUTE, async (req: Request, res: Response) => {
      const raw = this.rawBodies.get(req);
      let parsed: z.ZodSafeParseResult<Notification> | undefined;
      try {
        parsed = raw ? notificationSchema.safeParse(JSON.parse(raw.toString('utf8'))) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        res.send(400, { code: 'BadRequest', message: 'Not a Webex webhook notification' });
        return;
      }
      // Webex disables webhooks that answer slowly or fail: acknowledge first, work afterwards.
      res.send(200, { received: true });
      this.enqueue(parsed.data);
    });
  }

  /** True while notifications are waiting or being handled. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Resolves when every notification received so far has been handled (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** Learns the bot's own identity (to ignore its own messages); logs who we are at start-up. */
  async start(): Promise<WebexPerson> {
    const me = await this.bot();
    this.opts.logger.info({ botId: me.id, name: me.displayName }, 'Webex channel ready');
    return me;
  }

  private bot(): Promise<WebexPerson> {
    this.botPromise ??= this.opts.api.me().catch((err: unknown) => {
      this.botPromise = undefined; // try again with the next notification
      throw err;
    });
    return this.botPromise;
  }

  private enqueue(n: Notification): void {
    const room = n.data.roomId ?? `notification:${n.data.id}`;
    const previous = this.queues.get(room) ?? Promise.resolve();
    const job = previous.then(() => this.process(n));
    this.queues.set(room, job);
    this.pending.add(job);
    void job.finally(() => {
      this.pending.delete(job);
      if (this.queues.get(room) === job) this.queues.delete(room);
    });
  }

  private async process(n: Notification): Promise<void> {
    const { logger } = this.opts;
    const ctx = { resource: n.resource, event: n.event, notification: n.data.id, room: n.data.roomId };
    try {
      if (n.event !== 'created') return;
      if (n.resource === 'messages') await this.onMessage(n);
      else if (n.resource === 'attachmentActions') await this.onCardSubmit(n);
      else logger.debug(ctx, 'Webex notification for a resource we do not handle');
    } catch (err) {
      logger.error({ ...ctx, err }, 'Webex notification could not be handled');
      await this.apologise(n.data.roomId).catch((e: unknown) => logger.error({ ...ctx, err: e }, 'Webex apology could not be sent'));
    }
  }

  private async onMessage(n: Notification): Promise<void> {
    const { api, store } = this.opts;
    const bot = await this.bot();
    // Our own replies come back as notifications too; they are dropped before any fetch.
    if (n.data.personId && sameId(n.data.personId, bot.id)) return;
    // Cheap early exit for a re-delivery; the engine re-checks inside the conversation lock.
    if (await store.isProcessed(`${WEBEX_CHANNEL_ID}:${n.data.id}`)) return;
    const msg = await api.getMessage(n.data.id);
    if (sameId(msg.personId, bot.id)) return;
    if (msg.personEmail) this.rememberEmail(msg.personId, msg.personEmail);
    const text = stripBotMention(msg, bot);
    const attachments = await this.fileRefs(msg.files);
    await this.turn(
      {
        channel: WEBEX_CHANNEL_ID,
        conversationId: msg.roomId,
        user: this.user(msg.personId, msg.personEmail),
        activityId: n.data.id,
        locale: localeHint(text),
        text,
        attachments: attachments.length ? attachments : undefined,
        kind: 'message',
      },
      undefined,
    );
  }

  private async onCardSubmit(n: Notification): Promise<void> {
    const { api, store, logger } = this.opts;
    if (await store.isProcessed(`${WEBEX_CHANNEL_ID}:${n.data.id}`)) return;
    const action = await api.getAttachmentAction(n.data.id);
    const inputs = submitInputs.safeParse(action.inputs);
    if (!inputs.success) logger.warn({ notification: n.data.id, issues: inputs.error.issues.length }, 'Webex card submission with unexpected inputs');
    const { choice, step, text } = inputs.success ? inputs.data : {};
    const typed = text?.trim();
    await this.turn(
      {
        channel: WEBEX_CHANNEL_ID,
        conversationId: action.roomId,
        user: this.user(action.personId, this.emails.get(action.personId)),
        activityId: n.data.id,
        ...(choice ? { choice: { id: choice, step } } : typed ? { text: typed, locale: localeHint(typed) } : {}),
        kind: 'message',
      },
      action.messageId,
    );
  }

  private rememberEmail(personId: string, email: string): void {
    this.emails.delete(personId); // re-insert: the map's order is the recency order
    this.emails.set(personId, email);
    if (this.emails.size > MAX_REMEMBERED_EMAILS) this.emails.delete(this.emails.keys().next().value!);
  }

  private user(id: string, email: string | undefined): Inbound['user'] {
    return { id, email, agentIds: email ? [email] : undefined };
  }

  private async turn(inbound: Inbound, pressedCardId: string | undefined): Promise<void> {
    const { api, engine, translator } = this.opts;
    const result = await engine.handle(inbound);
    if (result.duplicate) return;
    const roomId = inbound.conversationId;
    if (result.answered && pressedCardId) {
      // A message with a card cannot be edited: retire it by deleting it and saying what was chosen.
      // Best effort: a card that cannot be deleted must not keep the answer from the person.
      try {
        await api.deleteMessage(pressedCardId);
        const note = translator.t(result.locale, 'webex:answered', { label: result.answered.label });
        await api.createMessage({ roomId, ...renderNote(note) });
      } catch (err) {
        this.opts.logger.warn({ err, room: roomId }, 'Webex: the pressed card could not be retired');
      }
    }
    for (const message of result.messages) {
      for (const out of renderMessage(message, result.locale, translator)) await api.createMessage({ roomId, ...out });
    }
  }

  private async apologise(roomId: string | undefined): Promise<void> {
    if (!roomId) return;
    const { store, translator, api } = this.opts;
    const record = await store.loadConversation(`${WEBEX_CHANNEL_ID}:${roomId}`).catch(() => undefined);
    const locale: Locale = record?.locale ?? 'en';
    await api.createMessage({ roomId, ...renderNote(translator.t(locale, 'webex:error')) });
  }

  private async fileRefs(urls: string[] | undefined): Promise<AttachmentRef[]> {
    const out: AttachmentRef[] = [];
    for (const url of (urls ?? []).slice(0, MAX_FILES)) {
      try {
        const info = await this.opts.api.fileInfo(url);
        if (info) out.push({ ...info, url });
      } catch (err) {
        this.opts.logger.warn({ err }, 'Webex file details could not be read; the file is ignored');
      }
    }
    return out;
  }

  private readRaw(req: Request): Promise<Buffer | 'too_large'> {
    const limit = this.opts.maxBodyBytes;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) tooLarge = true;
        else chunks.push(chunk);
      });
      req.once('end', () => resolve(tooLarge ? 'too_large' : Buffer.concat(chunks)));
      req.once('error', reject);
      req.once('aborted', () => reject(new Error('request aborted')));
    });
  }
}

/** Cyrillic means Ukrainian; otherwise no hint, so the conversation keeps its language. */
export function localeHint(text: string | undefined): string | undefined {
  return text && CYRILLIC.test(text) ? 'uk' : undefined;
}

/**
 * Removes the mention of the bot from a message. Webex puts the mentioned name into `text`; `html`
 * marks it as `<spark-mention data-object-id="…">Name</spark-mention>`, which tells us exactly what
 * to remove. Without html, a group message that starts with the bot's name loses that name.
 */
export function stripBotMention(msg: Pick<WebexMessage, 'text' | 'html' | 'roomType'>, bot: WebexPerson): string {
  let text = msg.text ?? '';
  let stripped = false;
  for (const m of (msg.html ?? '').matchAll(/<spark-mention\b([^>]*)>([\s\S]*?)<\/spark-mention>/g)) {
    const id = /data-object-id="([^"]+)"/.exec(m[1] ?? '')?.[1];
    const name = decodeEntities((m[2] ?? '').replace(/<[^>]+>/g, ''));
    if (!id || !name || !sameId(id, bot.id)) continue;
    const at = text.indexOf(name);
    if (at >= 0) {
      text = text.slice(0, at) + text.slice(at + name.length);
      stripped = true;
    }
  }
  if (!stripped && msg.roomType === 'group') {
    const names = [bot.displayName, bot.nickName, bot.displayName?.split(/\s+/)[0]].filter((s): s is string => !!s);
    const name = names.find((n) => text.toLowerCase().startsWith(n.toLowerCase()));
    if (name) text = text.slice(name.length);
  }
  return text.replace(/^[\s,:;]+/, '').trim();
}

/** Webex ids are base64 of `ciscospark://<region>/PEOPLE/<uuid>`; some places use the bare uuid. */
export function sameId(a: string, b: string): boolean {
  if (a === b) return true;
  const tail = (id: string) => {
    const decoded = /^[A-Za-z0-9+/=_-]+$/.test(id) ? Buffer.from(id, 'base64').toString('utf8') : id;
    return decoded.startsWith('ciscospark://') ? decoded.split('/').pop()?.toLowerCase() : id;
  };
  return tail(a) === tail(b);
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
