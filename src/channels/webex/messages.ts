/**
 * One claimed notification becomes one turn: a message, a card press or the bot's own membership in
 * a group space is read from Webex, turned into an Inbound for the engine, and the turn's replies go
 * to the space. A notification whose turn committed before (`turned`: the process stopped before its
 * replies surely went out) shows where the conversation stands instead of running the turn again.
 */
import { z } from 'zod';
import type { AttachmentRef } from '../../../dialogs/flow';
import { Engine } from '../../engine/engine';
import type { Inbound, TurnResult } from '../../engine/types';
import type { Logger } from '../../log';
import type { Store } from '../../storage/store';
import type { WebexApi } from './api';
import type { InboxClaim } from './claim';
import { localeHint, stripBotMention } from './mentions';
import { webexId, WEBEX_CHANNEL_ID, type ClaimedJob, type Notification } from './notification';
import { sameId, type WebexPeople } from './people';
import type { WebexReplies } from './replies';

/** What the channel needs from the engine. */
export interface TurnHandler {
  handle(inbound: Inbound): Promise<TurnResult>;
}

/** Read when used: the store may be built after the channel (see channel.ts). */
export interface WebexMessagesDeps {
  api: WebexApi;
  engine: TurnHandler;
  readonly store: Store;
  logger: Logger;
}

/** Card inputs: Action.Submit data `{ choice, step }` merged with Input.* values (`text`). */
const submitInputs = z.looseObject({
  choice: webexId().min(1).max(200).optional(),
  step: webexId().min(1).max(200).optional(),
  text: z.string().max(4000).optional(),
});

const MAX_FILES = 5;

export class WebexMessages {
  constructor(
    private readonly deps: WebexMessagesDeps,
    private readonly people: WebexPeople,
    private readonly replies: WebexReplies,
  ) {}

  /** Runs the notification's turn and posts its replies; throws what the inbox worker decides on. */
  async handle({ n, status, claim }: ClaimedJob): Promise<void> {
    if (status === 'turned') await this.showCurrentStep(n, claim);
    else if (n.event === 'created' && n.resource === 'messages') await this.onMessage(n, claim);
    else if (n.event === 'created' && n.resource === 'attachmentActions') await this.onCardSubmit(n, claim);
    else if (n.event === 'created' && n.resource === 'memberships') await this.onMembership(n, claim);
    else this.deps.logger.debug({ resource: n.resource, event: n.event, notification: n.data.id, room: n.data.roomId }, 'Webex notification for a resource we do not handle');
  }

  private async onMessage(n: Notification, claim: InboxClaim): Promise<void> {
    const bot = await this.people.bot();
    // Our own replies come back as notifications too; they are dropped before any fetch.
    if (n.data.personId && sameId(n.data.personId, bot.id)) return;
    // Cheap early exit for a re-delivery; the engine re-checks inside the conversation lock.
    if (await this.alreadyTurned(n)) return;
    const msg = await this.deps.api.getMessage(n.data.id);
    if (sameId(msg.personId, bot.id)) return;
    if (msg.personEmail) this.people.remember(msg.personId, msg.personEmail);
    const text = stripBotMention(msg, bot);
    const attachments = await this.fileRefs(msg.files);
    await this.turn(
      {
        channel: WEBEX_CHANNEL_ID,
        conversationId: msg.roomId,
        user: this.people.user(msg.personId, msg.personEmail),
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
    return this.deps.store.isProcessed(conversation, `${WEBEX_CHANNEL_ID}:${n.data.id}`);
  }

  private async onCardSubmit(n: Notification, claim: InboxClaim): Promise<void> {
    if (await this.alreadyTurned(n)) return;
    const action = await this.deps.api.getAttachmentAction(n.data.id);
    const inputs = submitInputs.safeParse(action.inputs);
    if (!inputs.success) this.deps.logger.warn({ notification: n.data.id, issues: inputs.error.issues.length }, 'Webex card submission with unexpected inputs');
    const { choice, step, text } = inputs.success ? inputs.data : {};
    const typed = text?.trim();
    await this.turn(
      {
        channel: WEBEX_CHANNEL_ID,
        conversationId: action.roomId,
        user: this.people.user(action.personId, await this.people.emailOf(action.personId)),
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
    const bot = await this.people.bot();
    const roomId = n.data.roomId;
    if (!roomId || !n.data.personId || !sameId(n.data.personId, bot.id)) return;
    // A 1:1 space with the bot is created by the person's first message, which starts the
    // conversation itself; a greeting racing it would answer "hi" with "not understood".
    if (n.data.roomType === 'direct') return;
    // The conversation's person is whoever added the bot (their language and email carry over).
    const actor = n.actorId && !sameId(n.actorId, bot.id) ? n.actorId : undefined;
    if (!actor) {
      this.deps.logger.debug({ room: roomId }, 'Webex: added to a space by an unknown actor; waiting for the first message');
      return;
    }
    await this.turn(
      {
        channel: WEBEX_CHANNEL_ID,
        conversationId: roomId,
        user: this.people.user(actor, await this.people.emailOf(actor)),
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
    const record = await this.deps.store.loadConversation(`${WEBEX_CHANNEL_ID}:${roomId}`);
    if (!record) return;
    const user = this.people.user(record.userId, await this.people.emailOf(record.userId));
    await this.turn({ channel: WEBEX_CHANNEL_ID, conversationId: roomId, user, kind: 'greeting' }, undefined, claim);
  }

  private async turn(inbound: Inbound, pressedCardId: string | undefined, claim: InboxClaim): Promise<void> {
    await claim.hold();
    const result = await this.deps.engine.handle(inbound);
    if (result.duplicate) return;
    await this.replies.post(inbound.conversationId, result, pressedCardId, claim);
  }

  private async fileRefs(urls: string[] | undefined): Promise<AttachmentRef[]> {
    const out: AttachmentRef[] = [];
    for (const url of (urls ?? []).slice(0, MAX_FILES)) {
      try {
        const info = await this.deps.api.fileInfo(url);
        if (info) out.push({ ...info, url });
      } catch (err) {
        this.deps.logger.warn({ err }, 'Webex file details could not be read; the file is ignored');
      }
    }
    return out;
  }
}
