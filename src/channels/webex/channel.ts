/**
 * The Webex channel: `POST /api/webex` receives webhook notifications, keeps each verified one in
 * the store's inbox, answers 2xx at once and runs the turn afterwards, in arrival order per space.
 * A notification acknowledged but not finished (the process died) is resumed at the next start, or
 * by another instance once its claim's lease runs out; the turn marks it in its own transaction, so
 * it is answered once. The claim is renewed while the notification waits and is handled (a long
 * Webex rate-limit wait must not let another instance resume it meanwhile); a holder that finds its
 * claim taken over stops and posts nothing more for it.
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
import { randomUUID } from 'node:crypto';
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import { Engine } from '../../engine/engine';
import { hasControlCharacter } from '../../engine/text';
import type { Inbound, Locale, TurnResult } from '../../engine/types';
import type { Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { ServerPlugin } from '../../server';
import type { Store } from '../../storage/store';
import { WebexRepository, type LiveCard } from './inbox-repository';
import type { AttachmentRef } from '../../../dialogs/flow';
import { WebexApi, WebexUnknownOutcomeError, type WebexMessage, type WebexPerson } from './api';
import { InboxClaim } from './claim';
import { renderMessage, renderNote } from './render';
import { SIGNATURE_HEADER, WebexWebhookVerifier } from './signature';

export const WEBEX_ROUTE = '/api/webex';
export const WEBEX_CHANNEL_ID = 'webex';

/** What the channel needs from the engine. */
export interface TurnHandler {
  handle(inbound: Inbound): Promise<TurnResult>;
}

export interface WebexInboxOptions {
  /** How often unfinished notifications (of an instance that died, or of an earlier run) are looked for. */
  pollMs?: number;
  /** How long a claim on a notification holds before another instance may take it over. */
  leaseMs?: number;
  /** Claims of one notification before it is given up as failed. */
  maxAttempts?: number;
  /** Finished notifications are kept this long (re-deliveries are recognised meanwhile), then pruned. */
  retentionMs?: number;
  /** Identifies this instance's claims; random by default. */
  workerId?: string;
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
  inbox?: WebexInboxOptions;
  /**
   * A notification whose event (`data.created`) is older than this is refused: a replay of a signed
   * notification. It must stay shorter than the inbox's memory (`inbox.retentionMs`), which catches
   * the replays younger than it. Default 60 minutes (WEBEX_MAX_NOTIFICATION_AGE_MINUTES).
   */
  maxNotificationAgeMs?: number;
  clock?: () => Date;
}

/** A Webex id: never a control character (issue 15, item 3; PostgreSQL cannot store a NUL), else 400. */
const webexId = () => z.string().refine((s) => !hasControlCharacter(s), 'an id holds a control character');

const notificationSchema = z.looseObject({
  id: webexId().optional(),
  resource: webexId(),
  event: webexId(),
  /** Who caused the event (for a membership: who added the bot). */
  actorId: webexId().optional(),
  data: z.looseObject({
    id: webexId().min(1),
    roomId: webexId().optional(),
    roomType: webexId().optional(),
    personId: webexId().optional(),
    personEmail: webexId().optional(),
    messageId: webexId().optional(),
    /**
     * When the event happened. The notification's own top-level `created` is the webhook's creation
     * date (Webex spreads the webhook into every notification), so it says nothing about the event.
     */
    created: z
      .string()
      .refine((s) => Number.isFinite(Date.parse(s)))
      .optional(),
  }),
});
type Notification = z.infer<typeof notificationSchema>;

/** A notification to handle; `turned`: its turn committed before, but the replies may not have gone out. */
interface Job {
  n: Notification;
  status: 'pending' | 'turned';
}

/** A job as it is handled: with this instance's claim on it, kept (renewed) until it is done. */
interface ClaimedJob extends Job {
  claim: InboxClaim;
}

/** Card inputs: Action.Submit data `{ choice, step }` merged with Input.* values (`text`). */
const submitInputs = z.looseObject({
  choice: webexId().min(1).max(200).optional(),
  step: webexId().min(1).max(200).optional(),
  text: z.string().max(4000).optional(),
});

const HANDLED_RESOURCES = new Set(['messages', 'attachmentActions', 'memberships']);
const CYRILLIC = /\p{Script=Cyrillic}/u;
const MAX_FILES = 5;
const MAX_REMEMBERED_EMAILS = 10_000;
const INBOX_DEFAULTS = { pollMs: 10_000, leaseMs: 5 * 60_000, maxAttempts: 5, retentionMs: 7 * 24 * 3600_000 } as const;
const PRUNE_EVERY_MS = 3600_000;
const DEFAULT_MAX_NOTIFICATION_AGE_MS = 60 * 60_000;
/** How far in the future an event may be dated (Webex's clock against ours) before it is refused as forged. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const CLAIM_BATCH = 50;

export class WebexChannel implements ServerPlugin {
  readonly name = 'webex';
  readonly workerId: string;
  private readonly verifier?: WebexWebhookVerifier;
  /** Raw request bytes captured before restify's body parser turns them into a string. */
  private readonly rawBodies = new WeakMap<Request, Buffer>();
  /** Per-space chain: notifications of one space are handled (and answered) in arrival order. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();
  /** Notification ids waiting or being handled here, so a sweep never queues one twice. */
  private readonly queued = new Set<string>();
  /** Person id -> email, most recently used last (messages carry it; presses are looked up). */
  private readonly emails = new Map<string, string>();
  private readonly inboxOptions: Required<Omit<WebexInboxOptions, 'workerId'>>;
  private readonly clock: () => Date;
  private repository?: WebexRepository | null;
  private botPromise?: Promise<WebexPerson>;
  private me?: WebexPerson;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;
  private stopped = false;
  private lastPrune = 0;

  constructor(private readonly opts: WebexChannelOptions) {
    if (opts.secret) this.verifier = new WebexWebhookVerifier(opts.secret);
    else if (!opts.insecureDev) throw new Error('The Webex channel needs a webhook secret (WEBEX_WEBHOOK_SECRET) unless WEBEX_INSECURE_DEV is on');
    else opts.logger.warn('Webex: WEBEX_INSECURE_DEV is on and no secret is set: notifications are NOT verified');
    const defined = Object.fromEntries(Object.entries(opts.inbox ?? {}).filter(([, v]) => v !== undefined));
    this.inboxOptions = { ...INBOX_DEFAULTS, ...defined };
    this.workerId = opts.inbox?.workerId ?? `webex-${randomUUID()}`;
    this.clock = opts.clock ?? (() => new Date());
  }

  register(server: Server): void {
    // Learn who we are now, so a wrong token shows in the start-up log rather than at the first message.
    this.start().catch((err: unknown) =>
      this.opts.logger.warn({ err }, 'Webex: GET /people/me failed; the bot identity is fetched again with the first notification'),
    );
    // Resume what an earlier run (or a dead instance) acknowledged but did not finish, then keep looking.
    this.scheduleSweep(0);
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
      const n = parsed.data;
      // The signature proves Webex sent these bytes, not that it sent them now: a notification
      // captured once could be posted again after the inbox has forgotten its id. Refused with 403
      // (authentic but not acceptable), a body that does not say why, and nothing kept or sent.
      const dated = this.outsideTimeWindow(n);
      if (dated) {
        this.opts.logger.warn({ notification: n.data.id, resource: n.resource, dated }, 'Webex notification refused: its event is outside the accepted time window (a replay, or a clock far off)');
        res.send(403, { code: 'Forbidden', message: 'The notification was refused' });
        return;
      }
      if (!this.worthKeeping(n)) {
        res.send(200, { received: true });
        return;
      }
      // Webex disables webhooks that answer slowly or fail: acknowledge at once, work afterwards. But
      // first keep the notification, so a crash after the 2xx cannot lose it.
      const repository = this.inbox();
      const receivedAt = this.clock();
      let fresh = true;
      if (repository) {
        try {
          fresh = await repository.receive(
            { notificationId: n.data.id, roomId: n.data.roomId, resource: n.resource, notification: storable(n) },
            { workerId: this.workerId, now: receivedAt, leaseMs: this.inboxOptions.leaseMs },
          );
        } catch (err) {
          // Not kept, so not acknowledged: Webex may deliver it again.
          this.opts.logger.error({ err, notification: n.data.id }, 'Webex notification could not be stored; answered 503');
          res.send(503, { code: 'ServiceUnavailable', message: 'The notification could not be stored; try again later.' });
          return;
        }
      }
      res.send(200, { received: true });
      // A re-delivery of a kept notification: its first delivery is (or was) handled.
      if (fresh) this.enqueue({ n, status: 'pending' }, receivedAt);
    });
  }

  /** True while notifications are waiting or being handled. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Resolves when every notification received so far has been handled (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.pending.size || this.sweeping) {
      await this.sweeping?.catch(() => undefined);
      await Promise.allSettled([...this.pending]);
    }
  }

  /** Stops looking for unfinished notifications (shutdown); what is queued is finished by drain(). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.sweeping?.catch(() => undefined);
  }

  /** Learns the bot's own identity (to ignore its own messages); logs who we are at start-up. */
  async start(): Promise<WebexPerson> {
    const me = await this.bot();
    this.opts.logger.info({ botId: me.id, name: me.displayName }, 'Webex channel ready');
    return me;
  }

  /**
   * One pass over the inbox: claims notifications that were acknowledged but not finished (their
   * instance died, or this process was stopped) and queues them. Returns how many were claimed.
   */
  async resumeUnfinished(): Promise<number> {
    const repository = this.inbox();
    if (!repository) return 0;
    const { logger } = this.opts;
    const now = this.clock();
    const claimed = await repository.claimDue({
      workerId: this.workerId,
      now,
      leaseMs: this.inboxOptions.leaseMs,
      limit: CLAIM_BATCH,
      // One process owns a SQLite file: a claim by anyone else belongs to a process that is gone.
      takeOverOtherWorkers: this.opts.store.kind === 'sqlite',
    });
    for (const entry of claimed) {
      if (this.queued.has(entry.notificationId)) continue;
      const parsed = notificationSchema.safeParse(entry.notification);
      if (!parsed.success) {
        await repository.markFailed(entry.notificationId, 'the stored notification is not valid', now);
        continue;
      }
      if (entry.attempts > this.inboxOptions.maxAttempts) {
        logger.error({ notification: entry.notificationId, attempts: entry.attempts - 1 }, 'Webex notification given up after repeated attempts');
        await repository.markFailed(entry.notificationId, `gave up after ${entry.attempts - 1} attempts`, now);
        continue;
      }
      logger.info({ notification: entry.notificationId, status: entry.status, room: entry.roomId }, 'Webex: resuming a notification acknowledged earlier');
      this.enqueue({ n: parsed.data, status: entry.status === 'turned' ? 'turned' : 'pending' }, now);
    }
    if (now.getTime() - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now.getTime();
      await repository.pruneFinished(new Date(now.getTime() - this.inboxOptions.retentionMs));
    }
    return claimed.length;
  }

  private scheduleSweep(ms: number): void {
    if (this.stopped) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      const pass = this.resumeUnfinished().catch((err: unknown) => {
        this.opts.logger.warn({ err }, 'Webex: looking for unfinished notifications failed; will try again');
        return 0;
      });
      this.sweeping = pass;
      void pass.then((claimed) => {
        this.sweeping = undefined;
        this.scheduleSweep(claimed >= CLAIM_BATCH ? 0 : this.inboxOptions.pollMs);
      });
    }, ms);
    this.sweepTimer.unref?.();
  }

  /** The inbox in the store (built on first use: it registers its turn writer with the store). */
  private inbox(): WebexRepository | undefined {
    if (this.repository === undefined) {
      this.repository = new WebexRepository(this.opts.store);
    }
    return this.repository ?? undefined;
  }

  /**
   * 'stale' when the event is older than the age bound, 'future' when dated beyond the clock skew
   * we allow. A notification without `data.created` passes: Webex always sends it, and a replay
   * cannot remove it without breaking the signature.
   */
  private outsideTimeWindow(n: Notification): 'stale' | 'future' | undefined {
    if (n.data.created === undefined) return undefined;
    const ageMs = this.clock().getTime() - Date.parse(n.data.created);
    if (ageMs > (this.opts.maxNotificationAgeMs ?? DEFAULT_MAX_NOTIFICATION_AGE_MS)) return 'stale';
    if (ageMs < -MAX_CLOCK_SKEW_MS) return 'future';
    return undefined;
  }

  /** Notifications that can never lead to an answer are acknowledged without being kept. */
  private worthKeeping(n: Notification): boolean {
    if (n.event !== 'created' || !HANDLED_RESOURCES.has(n.resource)) return false;
    const me = this.me;
    if (!me) return true; // identity not known yet: decided when handled
    const fromBot = !!n.data.personId && sameId(n.data.personId, me.id);
    if (n.resource === 'messages') return !fromBot; // our own replies echo back
    if (n.resource === 'memberships') return fromBot; // someone else joined a space
    return true;
  }

  private bot(): Promise<WebexPerson> {
    this.botPromise ??= this.opts.api.me().then(
      (me) => (this.me = me),
      (err: unknown) => {
        this.botPromise = undefined; // try again with the next notification
        throw err;
      },
    );
    return this.botPromise;
  }

  /** Queues a notification this instance claimed at `claimedAt`; the claim is renewed from now until it is done. */
  private enqueue(job: Job, claimedAt: Date): void {
    const id = job.n.data.id;
    if (this.queued.has(id)) return;
    this.queued.add(id);
    const claim = this.claimOn(id, claimedAt).start();
    const room = job.n.data.roomId ?? `notification:${id}`;
    const previous = this.queues.get(room) ?? Promise.resolve();
    const task = previous.then(() => this.process({ ...job, claim }));
    this.queues.set(room, task);
    this.pending.add(task);
    void task.finally(() => {
      claim.stop();
      this.queued.delete(id);
      this.pending.delete(task);
      if (this.queues.get(room) === task) this.queues.delete(room);
    });
  }

  /** This instance's claim on a notification (none to keep without an inbox). */
  private claimOn(notificationId: string, claimedAt: Date): InboxClaim {
    const repository = this.inbox();
    if (!repository) return new InboxClaim();
    const { leaseMs } = this.inboxOptions;
    return new InboxClaim({
      notificationId,
      claimedAt,
      leaseMs,
      clock: this.clock,
      logger: this.opts.logger,
      renew: (now) => repository.renewClaim(notificationId, { workerId: this.workerId, now, leaseMs }),
    });
  }

  private async process({ n, status, claim }: ClaimedJob): Promise<void> {
    const { logger } = this.opts;
    const ctx = { resource: n.resource, event: n.event, notification: n.data.id, room: n.data.roomId };
    try {
      claim.check(); // it may have waited long behind earlier notifications of its space
      if (status === 'turned') await this.showCurrentStep(n, claim);
      else if (n.event === 'created' && n.resource === 'messages') await this.onMessage(n, claim);
      else if (n.event === 'created' && n.resource === 'attachmentActions') await this.onCardSubmit(n, claim);
      else if (n.event === 'created' && n.resource === 'memberships') await this.onMembership(n, claim);
      else logger.debug(ctx, 'Webex notification for a resource we do not handle');
    } catch (err) {
      if (claim.lost) {
        // Another instance holds it now and answers it: nothing more from here, not even an apology.
        logger.warn({ ...ctx, err }, 'Webex: stopped handling a notification another instance took over');
        return;
      }
      if (err instanceof WebexUnknownOutcomeError) {
        // A reply got no answer from Webex and may well have arrived; it was not sent again. An apology
        // ("send your last message again") would answer a step the person may be looking at.
        logger.error({ ...ctx, err }, 'Webex: a reply may not have reached the space; not sent again, so it cannot show twice');
      } else {
        logger.error({ ...ctx, err }, 'Webex notification could not be handled');
        await this.apologise(n.data.roomId).catch((e: unknown) => logger.error({ ...ctx, err: e }, 'Webex apology could not be sent'));
      }
      await this.inbox()
        ?.markFailed(n.data.id, err instanceof Error ? err.message : String(err), this.clock())
        .catch((e: unknown) => logger.warn({ ...ctx, err: e }, 'Webex notification could not be marked failed; it will be resumed'));
      return;
    }
    claim.stop();
    await this.inbox()
      ?.markHandled(n.data.id, this.clock())
      .catch((err: unknown) => logger.warn({ ...ctx, err }, 'Webex notification could not be marked handled; it will be resumed'));
  }

  private async onMessage(n: Notification, claim: InboxClaim): Promise<void> {
    const { api, store } = this.opts;
    const bot = await this.bot();
    // Our own replies come back as notifications too; they are dropped before any fetch.
    if (n.data.personId && sameId(n.data.personId, bot.id)) return;
    // Cheap early exit for a re-delivery; the engine re-checks inside the conversation lock.
    if (await this.alreadyTurned(n)) return;
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
      claim,
    );
  }

  /** Whether the notification's turn already happened (before anything is fetched for it). */
  private async alreadyTurned(n: Notification): Promise<boolean> {
    if (!n.data.roomId) return false;
    const conversation = Engine.conversationKey({ channel: WEBEX_CHANNEL_ID, conversationId: n.data.roomId });
    return this.opts.store.isProcessed(conversation, `${WEBEX_CHANNEL_ID}:${n.data.id}`);
  }

  private async onCardSubmit(n: Notification, claim: InboxClaim): Promise<void> {
    const { api, logger } = this.opts;
    if (await this.alreadyTurned(n)) return;
    const action = await api.getAttachmentAction(n.data.id);
    const inputs = submitInputs.safeParse(action.inputs);
    if (!inputs.success) logger.warn({ notification: n.data.id, issues: inputs.error.issues.length }, 'Webex card submission with unexpected inputs');
    const { choice, step, text } = inputs.success ? inputs.data : {};
    const typed = text?.trim();
    await this.turn(
      {
        channel: WEBEX_CHANNEL_ID,
        conversationId: action.roomId,
        user: this.user(action.personId, await this.emailOf(action.personId)),
        activityId: n.data.id,
        ...(choice ? { choice: { id: choice, step } } : typed ? { text: typed, locale: localeHint(typed) } : {}),
        kind: 'message',
      },
      action.messageId,
      claim,
    );
  }

  /** The bot was added to a group space: greet with the first step (only for the bot's own membership). */
  private async onMembership(n: Notification, claim: InboxClaim): Promise<void> {
    const bot = await this.bot();
    const roomId = n.data.roomId;
    if (!roomId || !n.data.personId || !sameId(n.data.personId, bot.id)) return;
    // A 1:1 space with the bot is created by the person's first message, which starts the
    // conversation itself; a greeting racing it would answer "hi" with "not understood".
    if (n.data.roomType === 'direct') return;
    // The conversation's person is whoever added the bot (their language and email carry over).
    const actor = n.actorId && !sameId(n.actorId, bot.id) ? n.actorId : undefined;
    if (!actor) {
      this.opts.logger.debug({ room: roomId }, 'Webex: added to a space by an unknown actor; waiting for the first message');
      return;
    }
    await this.turn(
      {
        channel: WEBEX_CHANNEL_ID,
        conversationId: roomId,
        user: this.user(actor, await this.emailOf(actor)),
        activityId: n.data.id,
        kind: 'greeting',
      },
      undefined,
      claim,
    );
  }

  /**
   * The turn of this notification committed but the process stopped before its replies were
   * (surely) posted: show where the conversation stands, so the person is not left without an answer.
   */
  private async showCurrentStep(n: Notification, claim: InboxClaim): Promise<void> {
    const roomId = n.data.roomId;
    if (!roomId) return;
    const record = await this.opts.store.loadConversation(`${WEBEX_CHANNEL_ID}:${roomId}`);
    if (!record) return;
    await this.turn(
      { channel: WEBEX_CHANNEL_ID, conversationId: roomId, user: this.user(record.userId, await this.emailOf(record.userId)), kind: 'greeting' },
      undefined,
      claim,
    );
  }

  /** The person's email: remembered from their messages, else looked up (GET /people/{id}) and remembered. */
  private async emailOf(personId: string): Promise<string | undefined> {
    const known = this.emails.get(personId);
    if (known) {
      this.rememberEmail(personId, known);
      return known;
    }
    try {
      const email = (await this.opts.api.getPerson(personId)).emails?.[0];
      if (email) this.rememberEmail(personId, email);
      return email;
    } catch (err) {
      this.opts.logger.warn({ err }, 'Webex: the person could not be looked up; the turn goes on without their email');
      return undefined;
    }
  }

  private rememberEmail(personId: string, email: string): void {
    this.emails.delete(personId); // re-insert: the map's order is the recency order
    this.emails.set(personId, email);
    if (this.emails.size > MAX_REMEMBERED_EMAILS) this.emails.delete(this.emails.keys().next().value!);
  }

  /**
   * The sender as Webex reports them. Their email counts as proven (an agent may be listed by it)
   * only when notifications are signed: with WEBEX_INSECURE_DEV anyone could have sent this one.
   */
  private user(id: string, email: string | undefined): Inbound['user'] {
    return { id, email, verified: email && this.verifier ? [{ scheme: 'email', value: email }] : undefined };
  }

  private async turn(inbound: Inbound, pressedCardId: string | undefined, claim: InboxClaim): Promise<void> {
    claim.check();
    const result = await this.opts.engine.handle(inbound);
    if (result.duplicate) return;
    await this.reply(inbound.conversationId, result, pressedCardId, claim);
  }

  /** Posts the turn's replies; each post (and card retirement) only while the claim is surely still ours. */
  private async reply(roomId: string, result: TurnResult, pressedCardId: string | undefined, claim: InboxClaim): Promise<void> {
    const { api, translator, logger } = this.opts;
    const repository = this.inbox();
    const live = await repository?.liveCard(roomId).catch((err: unknown) => {
      logger.warn({ err, room: roomId }, 'Webex: the live card could not be read');
      return undefined;
    });
    if (result.answered && pressedCardId) {
      // A message with a card cannot be edited: retire it by deleting it and saying what was chosen.
      // Best effort: a card that cannot be deleted must not keep the answer from the person.
      try {
        claim.check();
        await api.deleteMessage(pressedCardId, { signal: claim.signal });
        const note = translator.t(result.locale, 'webex:answered', { label: result.answered.label });
        claim.check();
        await api.createMessage({ roomId, ...renderNote(note) }, { signal: claim.signal });
      } catch (err) {
        claim.check(); // a lost claim stops the reply; anything else only costs the retirement
        logger.warn({ err, room: roomId }, 'Webex: the pressed card could not be retired');
      }
    }
    const outgoing = result.messages.flatMap((message) => renderMessage(message, result.locale, translator).map((out) => ({ out, step: message.step })));
    const postsCard = outgoing.some(({ out }) => !!out.attachments?.length);
    // The card still live in the space was answered by typing, or a new card takes its place: its
    // buttons would act on a question that is gone, so it goes (the pressed card went above).
    let retired = false;
    if (live && live.messageId !== pressedCardId && (postsCard || live.step !== result.step)) {
      try {
        claim.check();
        await api.deleteMessage(live.messageId, { signal: claim.signal });
        retired = true;
      } catch (err) {
        claim.check();
        logger.warn({ err, room: roomId }, 'Webex: the earlier card could not be retired');
      }
    }
    let newCard: LiveCard | undefined;
    for (const { out, step } of outgoing) {
      claim.check();
      const posted = await api.createMessage({ roomId, ...out }, { signal: claim.signal });
      if (out.attachments?.length) newCard = { roomId, messageId: posted.id, step };
    }
    if (!repository) return;
    try {
      if (newCard) await repository.setLiveCard(newCard, this.clock());
      else if (live && (retired || (result.answered && live.messageId === pressedCardId))) await repository.clearLiveCard(roomId, live.messageId);
    } catch (err) {
      logger.warn({ err, room: roomId }, 'Webex: the live card could not be recorded');
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

/** What the inbox keeps of a notification: the ids it is handled by, not the email Webex also sends. */
function storable(n: Notification): Notification {
  const { id, roomId, roomType, personId, messageId } = n.data;
  return { resource: n.resource, event: n.event, actorId: n.actorId, data: { id, roomId, roomType, personId, messageId } };
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
