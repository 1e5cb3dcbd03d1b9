/**
 * The Webex space where support engineers take hand-offs (HANDOFF_WEBEX_ROOM_ID, src/handoff/). The
 * bot posts each request as a card (English summary, decision trail, the person's language and
 * channel, "Take it"); the inbox hands this space's notifications here instead of to the engine.
 * A card cannot be edited in Webex, so once taken it is replaced by a message saying who took it,
 * and that message is the thread the chat is held in: the person's messages are posted there, and
 * what the engineer writes there (mentioning the bot, as Webex requires in a group space) goes to
 * the person. "end" in the thread ends the chat. Nobody's name or words go to the log.
 */
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { AttachmentRef } from '../../../dialogs/flow';
import type { Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { CardState, ExpertSpace, HandoffDesk, HandoffRecord } from '../../handoff';
import type { HandoffRepository } from '../../handoff/repository';
import { handoffRef, requestSummary } from '../../handoff/summary';
import { ADAPTIVE_CARD_CONTENT_TYPE, type WebexApi } from './api';
import { stripBotMention } from './mentions';
import type { ClaimedJob, Notification } from './notification';
import { sameId, type WebexPeople } from './people';
import { escapeMarkdown } from './render';

export interface WebexHandoffSpaceOptions {
  roomId: string;
  desk: HandoffDesk;
  repository: HandoffRepository;
}

export interface WebexHandoffSpaceDeps extends WebexHandoffSpaceOptions {
  api: WebexApi;
  people: WebexPeople;
  /** Read when used (built after the channel, see channel.ts). */
  translator: () => Translator;
  logger: Logger;
}

const takeInputs = z.looseObject({ handoff: z.literal('take'), id: z.string().min(1).max(64) });

export class WebexHandoffSpace implements ExpertSpace {
  readonly name = 'webex' as const;
  /** Person id → display name (the card says who took it). */
  private readonly names = new LRUCache<string, string>({ max: 1_000 });

  constructor(private readonly deps: WebexHandoffSpaceDeps) {}

  /** Whether the notification is this space's (then it is handled here, not as a conversation). */
  owns(n: Notification): boolean {
    return n.data.roomId === this.deps.roomId;
  }

  async ready(): Promise<boolean> {
    return true;
  }

  private en(key: string, params?: Record<string, unknown>): string {
    return this.deps.translator().t('en', `handoff:expert.${key}`, params);
  }

  async handle({ n, claim }: ClaimedJob): Promise<void> {
    if (n.event !== 'created') return;
    await claim.hold();
    if (n.resource === 'attachmentActions') await this.onPress(n.data.id);
    else if (n.resource === 'messages') await this.onMessage(n);
  }

  private async expert(personId: string, email?: string) {
    const { people, api } = this.deps;
    const mail = email ?? (await people.emailOf(personId));
    let name = this.names.get(personId);
    if (!name) {
      name = (await api.getPerson(personId).catch(() => undefined))?.displayName ?? mail ?? 'Support engineer';
      this.names.set(personId, name);
    }
    return { user: people.user(personId, mail), key: `webex:${personId}`, name, space: this.name };
  }

  private async onPress(actionId: string): Promise<void> {
    const { api, desk, roomId } = this.deps;
    const action = await api.getAttachmentAction(actionId);
    const inputs = takeInputs.safeParse(action.inputs);
    if (!inputs.success) return;
    const answer = await desk.take(inputs.data.id, await this.expert(action.personId));
    if (answer) await api.createMessage({ roomId, ...(action.messageId ? { parentId: action.messageId } : {}), markdown: escapeMarkdown(answer) });
  }

  private async onMessage(n: Notification): Promise<void> {
    const { api, people, desk, repository, roomId } = this.deps;
    const bot = await people.bot();
    if (n.data.personId && sameId(n.data.personId, bot.id)) return;
    const msg = await api.getMessage(n.data.id);
    if (sameId(msg.personId, bot.id) || !msg.parentId) return;
    const h = await repository.byWebexThread(msg.parentId);
    if (!h) return;
    const files: AttachmentRef[] = (msg.files ?? []).map((url, i) => ({ name: `file ${i + 1}`, contentType: 'application/octet-stream', url }));
    const answer = await desk.say(h, await this.expert(msg.personId, msg.personEmail), { id: `webex:${msg.id}`, text: stripBotMention(msg, bot), files });
    if (answer) await api.createMessage({ roomId, parentId: msg.parentId, markdown: escapeMarkdown(answer) });
  }

  async post(h: HandoffRecord): Promise<{ messageId: string }> {
    const summary = requestSummary(h, this.deps.translator());
    const card = {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.3',
      body: [
        { type: 'TextBlock', text: summary.title, weight: 'Bolder', wrap: true },
        { type: 'TextBlock', text: this.en('waiting', { at: `${h.requestedAt.slice(11, 16)} UTC` }), isSubtle: true, wrap: true },
        { type: 'FactSet', facts: summary.facts },
        ...(summary.trail.length
          ? [{ type: 'Container', items: [{ type: 'TextBlock', text: this.en('trail'), weight: 'Bolder', wrap: true }, ...summary.trail.map((t) => ({ type: 'TextBlock', text: t, wrap: true, spacing: 'None' }))] }]
          : []),
      ],
      actions: [{ type: 'Action.Submit', title: this.en('take'), data: { handoff: 'take', id: h.id } }],
    };
    const posted = await this.deps.api.createMessage({
      roomId: this.deps.roomId,
      markdown: escapeMarkdown(summary.text),
      attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card }],
    });
    return { messageId: posted.id };
  }

  async update(h: HandoffRecord, change: CardState): Promise<{ messageId: string; threadId?: string } | undefined> {
    const { api, roomId } = this.deps;
    const card = h.cards.webex;
    if (!card) return undefined;
    if (change.state === 'taken' || !card.threadId) {
      // The card goes (its button would act on a request that is no longer open); a message says why.
      if (!card.threadId) await api.deleteMessage(card.messageId);
      const text = this.closedText(h, change);
      if (change.state !== 'taken' || h.takenIn !== this.name) {
        const note = await api.createMessage({ roomId, markdown: escapeMarkdown(text) });
        return { messageId: note.id };
      }
      const summary = requestSummary(h, this.deps.translator());
      const root = await api.createMessage({ roomId, markdown: escapeMarkdown([text, this.en('howTo'), summary.text].join('\n\n')) });
      return { messageId: root.id, threadId: root.id };
    }
    // The chat's thread says how it ended.
    await api.createMessage({ roomId, parentId: card.threadId, markdown: escapeMarkdown(this.closedText(h, change)) });
    return undefined;
  }

  private closedText(h: HandoffRecord, change: CardState): string {
    const ref = handoffRef(h.id);
    const language = this.en(`languages.${h.locale}`);
    switch (change.state) {
      case 'taken':
        return this.en('taken', { name: h.takenByName ?? '', ref, channel: h.channel, language });
      case 'ended':
        return change.by === 'person' ? this.en('endedByPerson', { ref }) : this.en('endedByExpert', { ref, name: h.takenByName ?? '' });
      case 'expired':
        return this.en('expired', { ref, minutes: Math.round((Date.parse(h.waitUntil) - Date.parse(h.requestedAt)) / 60_000) });
      default:
        return this.en('cancelled', { ref });
    }
  }

  async relay(h: HandoffRecord, text: string, files: AttachmentRef[]): Promise<void> {
    const threadId = h.cards.webex?.threadId;
    if (!threadId) return;
    const lines = [this.en('fromPerson', { text: '\u0000' }).replace('\u0000', () => escapeMarkdown(text))];
    // Links to the files as the person's channel keeps them: who may open one is that channel's rule.
    if (files.length) lines.push(files.map((f) => `[${escapeMarkdown(f.name)}](${f.url})`).join('  \n'));
    await this.deps.api.createMessage({ roomId: this.deps.roomId, parentId: threadId, markdown: lines.join('\n\n') });
  }
}
