/**
 * What the person sees after a turn: its replies posted to the space (markdown, a card for buttons),
 * and card retirement, so only the current question has live buttons. A card cannot be edited in
 * Webex: a pressed one is deleted and replaced by the chosen answer; one answered by typing, or
 * superseded by a newer card, is deleted. Every post is made only while the claim on the
 * notification is surely still this instance's, so a taken-over notification is never answered twice.
 */
import type { Locale, TurnResult } from '../../engine/types';
import type { Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { Store } from '../../storage/store';
import type { WebexApi } from './api';
import type { InboxClaim } from './claim';
import type { LiveCard, WebexRepository } from './inbox-repository';
import { WEBEX_CHANNEL_ID } from './notification';
import { renderMessage, renderNote } from './render';

/** Read when used: the store and translator may be built after the channel (see channel.ts). */
export interface WebexRepliesDeps {
  api: WebexApi;
  readonly translator: Translator;
  readonly store: Store;
  logger: Logger;
}

export class WebexReplies {
  constructor(
    private readonly deps: WebexRepliesDeps,
    private readonly inbox: () => WebexRepository,
    private readonly clock: () => Date,
  ) {}

  /** Posts the turn's replies; each post (and card retirement) only while the claim is surely still ours. */
  async post(roomId: string, result: TurnResult, pressedCardId: string | undefined, claim: InboxClaim): Promise<void> {
    const { translator, logger } = this.deps;
    const live = await this.inbox()
      .liveCard(roomId)
      .catch((err: unknown) => {
        logger.warn({ err, room: roomId }, 'Webex: the live card could not be read');
        return undefined;
      });
    if (result.answered && pressedCardId) await this.retirePressed(roomId, pressedCardId, result.locale, result.answered.label, claim);
    const outgoing = result.messages.flatMap((message) => renderMessage(message, result.locale, translator).map((out) => ({ out, step: message.step })));
    const postsCard = outgoing.some(({ out }) => !!out.attachments?.length);
    // The card still live in the space was answered by typing, or a new card takes its place: its
    // buttons would act on a question that is gone, so it goes (the pressed card went above).
    const retired = !!live && live.messageId !== pressedCardId && (postsCard || live.step !== result.step) && (await this.retire(live, claim));
    let newCard: LiveCard | undefined;
    for (const { out, step } of outgoing) {
      const posted = await this.deps.api.createMessage({ roomId, ...out }, claim.call);
      if (out.attachments?.length) newCard = { roomId, messageId: posted.id, step };
    }
    try {
      if (newCard) await this.inbox().setLiveCard(newCard, this.clock());
      else if (live && (retired || (result.answered && live.messageId === pressedCardId))) await this.inbox().clearLiveCard(roomId, live.messageId);
    } catch (err) {
      logger.warn({ err, room: roomId }, 'Webex: the live card could not be recorded');
    }
  }

  /** Something went wrong: say so in the conversation's language (best effort, no claim needed). */
  async apologise(roomId: string | undefined): Promise<void> {
    if (!roomId) return;
    const { store, translator, api } = this.deps;
    const record = await store.loadConversation(`${WEBEX_CHANNEL_ID}:${roomId}`).catch(() => undefined);
    const locale: Locale = record?.locale ?? 'en';
    await api.createMessage({ roomId, ...renderNote(translator.t(locale, 'webex:error')) });
  }

  /**
   * A message with a card cannot be edited: retire the pressed one by deleting it and saying what was
   * chosen. Best effort: a card that cannot be deleted must not keep the answer from the person.
   */
  private async retirePressed(roomId: string, pressedCardId: string, locale: Locale, label: string, claim: InboxClaim): Promise<void> {
    const { api, translator, logger } = this.deps;
    try {
      await api.deleteMessage(pressedCardId, claim.call);
      const note = translator.t(locale, 'webex:answered', { label });
      await api.createMessage({ roomId, ...renderNote(note) }, claim.call);
    } catch (err) {
      claim.throwIfLost(); // a lost claim stops the reply; anything else only costs the retirement
      logger.warn({ err, room: roomId }, 'Webex: the pressed card could not be retired');
    }
  }

  /** Deletes a card nobody pressed; true when it is gone. */
  private async retire(live: LiveCard, claim: InboxClaim): Promise<boolean> {
    try {
      await this.deps.api.deleteMessage(live.messageId, claim.call);
      return true;
    } catch (err) {
      claim.throwIfLost();
      this.deps.logger.warn({ err, room: live.roomId }, 'Webex: the earlier card could not be retired');
      return false;
    }
  }
}
