/**
 * The Teams channel where support engineers take hand-offs (src/handoff/), once an agent chose it
 * (./handoff-inbox.ts, ./handoff-channels.ts). Each request is a new post in the channel: an
 * Adaptive Card with the English summary, the decision trail, the person's language and channel, and
 * "Take it". Teams edits a card in place, so the same card then shows who took it (or how the
 * request ended) for everyone, without the button; the chat is held in the card's reply chain
 * (`<channel id>;messageid=<card id>`): the person's messages are posted there, and what the engineer
 * replies there (mentioning the bot, as Teams requires in a channel) goes to the person.
 * Nobody's name or words go to the log.
 */
import { ActivityTypes, CardFactory, type ConversationReference, type TurnContext } from 'botbuilder';
import type { AttachmentRef } from '../../../dialogs/flow';
import type { CardState, ExpertSpace, HandoffRecord } from '../../handoff';
import { handoffRef, requestSummary } from '../../handoff/summary';
import type { Translator } from '../../i18n';
import type { BotAdapter } from './adapter';
import type { HandoffChannelsRepository } from './handoff-channels';
import { escapeMarkdown } from './render';

export interface TeamsHandoffSpaceDeps {
  adapter: BotAdapter;
  /** MicrosoftAppId ('' without one: local, unauthenticated). */
  appId: string;
  channels: HandoffChannelsRepository;
  translator: Translator;
}

/** Where a request card is in Teams: the channel's conversation id and the card's activity id. */
export interface TeamsCard {
  activityId: string;
  conversationId: string;
}

export class TeamsHandoffSpace implements ExpertSpace {
  readonly name = 'teams' as const;

  constructor(private readonly deps: TeamsHandoffSpaceDeps) {}

  async ready(): Promise<boolean> {
    return (await this.deps.channels.chosen()) !== undefined;
  }

  private en(key: string, params?: Record<string, unknown>): string {
    return this.deps.translator.t('en', `handoff:expert.${key}`, params);
  }

  /** Runs `send` in the channel (or one of its reply chains); a failure is thrown here, never sent to onTurnError's apology. */
  private async inChannel<T>(conversationId: string | undefined, send: (context: TurnContext) => Promise<T>): Promise<T> {
    const chosen = await this.deps.channels.chosen();
    if (!chosen) throw new Error('no Teams channel is chosen for hand-offs');
    const reference: Partial<ConversationReference> = conversationId ? { ...chosen, conversation: { ...chosen.conversation!, id: conversationId } } : chosen;
    let out: { value: T } | undefined;
    let failure: unknown;
    await this.deps.adapter.continueConversationAsync(this.deps.appId, reference, async (context) => {
      // The SDK's made-up continuation id would make the post a reply to nothing.
      context.activity.id = undefined;
      try {
        out = { value: await send(context) };
      } catch (err) {
        failure = err;
      }
    });
    if (failure !== undefined || !out) throw failure ?? new Error('the Teams connector did not run the send');
    return out.value;
  }

  async post(h: HandoffRecord): Promise<TeamsCard> {
    const card = this.card(h, { header: this.en('waiting', { at: `${h.requestedAt.slice(11, 16)} UTC` }), take: true });
    const posted = await this.inChannel(undefined, async (context) => {
      const sent = await context.sendActivity({ type: ActivityTypes.Message, summary: requestSummary(h, this.deps.translator).title, attachments: [card] });
      return { id: sent?.id, conversationId: String(context.activity.conversation?.id ?? '') };
    });
    if (!posted.id) throw new Error('the Teams connector returned no id for the request card');
    return { activityId: posted.id, conversationId: posted.conversationId };
  }

  async update(h: HandoffRecord, change: CardState): Promise<TeamsCard | undefined> {
    const card = h.cards.teams;
    if (!card) return undefined;
    const text = this.closedText(h, change);
    const howTo = change.state === 'taken' && h.takenIn === this.name ? this.en('howTo') : undefined;
    const edited = this.card(h, { header: [text, howTo].filter(Boolean).join('\n\n'), take: false });
    await this.inChannel(card.conversationId, (context) => context.updateActivity({ type: ActivityTypes.Message, id: card.activityId, attachments: [edited] }));
    // The chat's reply chain also says how it ended, where the engineer is reading.
    if (change.state === 'ended' && h.takenIn === this.name) {
      await this.inChannel(threadOf(card), (context) => context.sendActivity({ type: ActivityTypes.Message, text: escapeMarkdown(text), textFormat: 'markdown' }));
    }
    return undefined;
  }

  async relay(h: HandoffRecord, text: string, files: AttachmentRef[]): Promise<void> {
    const card = h.cards.teams;
    if (!card) return;
    const lines = [this.en('fromPerson', { text: '\u0000' }).replace('\u0000', () => escapeMarkdown(text))];
    // Links to the files as the person's channel keeps them: who may open one is that channel's rule.
    if (files.length) lines.push(files.map((f) => `[${escapeMarkdown(f.name)}](${f.url})`).join('  \n'));
    await this.inChannel(threadOf(card), (context) => context.sendActivity({ type: ActivityTypes.Message, text: lines.join('\n\n'), textFormat: 'markdown' }));
  }

  private card(h: HandoffRecord, how: { header: string; take: boolean }) {
    const summary = requestSummary(h, this.deps.translator);
    const trail = summary.trail.map((t) => ({ type: 'TextBlock', text: t, wrap: true, spacing: 'None' }));
    return CardFactory.adaptiveCard({
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      body: [
        { type: 'TextBlock', text: summary.title, weight: 'Bolder', size: 'Medium', wrap: true },
        { type: 'TextBlock', text: how.header, isSubtle: how.take, wrap: true },
        { type: 'FactSet', facts: summary.facts },
        ...(trail.length ? [{ type: 'TextBlock', text: this.en('trail'), weight: 'Bolder', wrap: true }, ...trail] : []),
      ],
      actions: how.take ? [{ type: 'Action.Submit', title: this.en('take'), data: { handoff: 'take', id: h.id } }] : [],
    });
  }

  private closedText(h: HandoffRecord, change: CardState): string {
    const ref = handoffRef(h.id);
    if (change.state === 'taken') return this.en('taken', { name: h.takenByName ?? '', ref, channel: h.channel, language: this.en(`languages.${h.locale}`) });
    if (change.state === 'ended') return change.by === 'person' ? this.en('endedByPerson', { ref }) : this.en('endedByExpert', { ref, name: h.takenByName ?? '' });
    if (change.state === 'expired') return this.en('expired', { ref, minutes: Math.round((Date.parse(h.waitUntil) - Date.parse(h.requestedAt)) / 60_000) });
    return this.en('cancelled', { ref });
  }
}

/** The card's reply chain, as Teams names a thread in a channel. */
export function threadOf(card: TeamsCard): string {
  return `${card.conversationId};messageid=${card.activityId}`;
}
