/**
 * Renders the engine's translated messages for Bot Framework channels: an Adaptive Card 1.5 for
 * Teams (buttons are `Action.Execute`, Universal Actions, carrying `{ choice, step, prompt, label }`;
 * the web chat's cards keep `Action.Submit`), text with suggested
 * actions everywhere else (the Emulator, Direct Line clients). Channels never decide content: every
 * word here comes from the engine or from locales/<lng>/botframework.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionTypes, ActivityTypes, CardFactory, InputHints, MessageFactory, type Activity, type Attachment, type CardAction } from 'botbuilder';
import type { RenderedMessage } from '../../engine/types';
import type { CardSubmit } from './activity';
import { ROOT } from '../../root';

/** Translates a key of the `botframework` namespace in the conversation's language. */
export type T = (key: string, params?: Record<string, unknown>) => string;

type CardElement = Record<string, unknown>;
interface AdaptiveCard {
  type: 'AdaptiveCard';
  version: string;
  body: CardElement[];
  actions: CardElement[];
  [extra: string]: unknown;
}

const CARD_TEMPLATE: AdaptiveCard = JSON.parse(
  readFileSync(join(ROOT, 'src', 'channels', 'botframework', 'cards', 'step.json'), 'utf8'),
) as AdaptiveCard;
// Shared by every card made from it (newCard copies only the top level): frozen so that nothing changes it.
for (const value of Object.values(CARD_TEMPLATE)) if (value && typeof value === 'object') Object.freeze(value);
Object.freeze(CARD_TEMPLATE);

/** Longest question text a button carries back (Teams limits the size of a submit). */
const MAX_PROMPT = 4000;

/** Channels that get Adaptive Cards. Everything else gets text and suggested actions. */
export function usesCards(channelId: string): boolean {
  return channelId === 'msteams';
}

/** A card to fill: the template's fields shared (never changed), its own body and actions (structuredClone cost 0.6 % of a turn). */
function newCard(): AdaptiveCard {
  return { ...CARD_TEMPLATE, body: [], actions: [] };
}

function textBlock(text: string, extra: CardElement = {}): CardElement {
  return { type: 'TextBlock', text, wrap: true, ...extra };
}

/** A markdown link whose label cannot break out of the brackets. */
function markdownLink(label: string, url: string): string {
  return `[${label.replace(/[[\]\\]/g, (c) => `\\${c}`)}](${url.replace(/[()\s]/g, encodeURIComponent)})`;
}

function promptOf(message: RenderedMessage): string {
  const text = message.paragraphs.join('\n\n');
  return text.length > MAX_PROMPT ? `${text.slice(0, MAX_PROMPT - 1)}…` : text;
}

/**
 * How a card shows text that came from the engine (translations with the person's own words in them).
 * Teams cards keep it as it is: Teams honours backslash escapes on some clients and shows the
 * backslashes on others. Web Chat renders card text as full markdown with HTML, so it passes
 * `escapeMarkdown` (see `renderForWebChat`).
 */
export interface CardTextOptions {
  plain?: (text: string) => string;
  /**
   * Buttons as `Action.Execute` (Teams): the press comes as an invoke whose response replaces the card
   * in place, so retiring it costs no connector call. Otherwise `Action.Submit` (Web Chat).
   */
  execute?: boolean;
}

/** The verb of our Action.Execute buttons: every button answers the card's question (the choice is in `data`). */
export const EXECUTE_VERB = 'choose';

/** Teams' cards: buttons as Action.Execute. */
export const TEAMS_CARDS: CardTextOptions = Object.freeze({ execute: true });

const asIs = (text: string) => text;

/** The card for one message: paragraphs, facts, links, and one submit button per choice. */
export function stepCard(message: RenderedMessage, t: T, options: CardTextOptions = {}): AdaptiveCard {
  const plain = options.plain ?? asIs;
  const card = newCard();
  message.paragraphs.forEach((p, i) => card.body.push(textBlock(plain(p), i === 0 ? {} : { spacing: 'Medium' })));
  if (message.facts.length) {
    card.body.push({ type: 'FactSet', facts: message.facts.map((f) => ({ title: plain(f.label), value: plain(f.value) })) });
  }
  if (message.links.length) {
    card.body.push(textBlock(plain(t('card.links')), { weight: 'Bolder', spacing: 'Medium' }));
    for (const link of message.links) card.body.push(textBlock(markdownLink(link.label, link.url), { spacing: 'Small' }));
  }
  const prompt = promptOf(message);
  for (const choice of message.choices) {
    const data: CardSubmit = { choice: choice.id, ...(message.step ? { step: message.step } : {}), prompt, label: choice.label };
    card.actions.push(options.execute ? { type: 'Action.Execute', verb: EXECUTE_VERB, title: choice.label, data } : { type: 'Action.Submit', title: choice.label, data });
  }
  return card;
}

/**
 * The card that replaces a pressed one: the question, what was chosen (or, for a press on an
 * outdated card, a pointer to the latest message), and no buttons.
 */
export function answeredCard(prompt: string | undefined, answer: string | undefined, t: T, options: CardTextOptions = {}): AdaptiveCard {
  const plain = options.plain ?? asIs;
  return closedCard(
    prompt,
    answer
      ? textBlock(plain(t('card.yourAnswer', { label: answer })), { weight: 'Bolder', spacing: 'Medium' })
      : textBlock(plain(t('card.answeredElsewhere')), { isSubtle: true, spacing: 'Medium' }),
    plain,
  );
}

/**
 * The card a pressed Action.Execute button leaves while its question is still open (help, a command
 * that did not move on): Teams replaces the card with the invoke's answer, and the question is asked
 * again in the reply below.
 */
export function continuedCard(prompt: string | undefined, t: T): AdaptiveCard {
  return closedCard(prompt, textBlock(t('card.continuedBelow'), { isSubtle: true, spacing: 'Medium' }), asIs);
}

function closedCard(prompt: string | undefined, last: CardElement, plain: (text: string) => string): AdaptiveCard {
  const card = newCard();
  // The prompt comes back in the press's submit data: whatever the client chose to send.
  for (const p of (prompt ?? '').split('\n\n').filter(Boolean)) card.body.push(textBlock(plain(p), { isSubtle: true }));
  card.body.push(last);
  return card;
}

/**
 * Backslash-escapes what CommonMark (and markdown-it, which Web Chat uses with raw HTML on) would
 * otherwise turn into emphasis, strikethrough, code, links, images, HTML or character references: the
 * person's own words must show as typed.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>~&]/g, (c) => `\\${c}`);
}

/** Text with suggested actions: the Emulator and other non-card channels. */
export function textMessage(message: RenderedMessage, t: T): Partial<Activity> {
  const parts = message.paragraphs.map(escapeMarkdown);
  if (message.facts.length) parts.push(message.facts.map((f) => `**${escapeMarkdown(f.label)}:** ${escapeMarkdown(f.value)}`).join('  \n'));
  if (message.links.length) {
    parts.push(`${escapeMarkdown(t('card.links'))}  \n${message.links.map((l) => markdownLink(l.label, l.url)).join('  \n')}`);
  }
  const text = parts.join('\n\n');
  if (!message.choices.length) return { type: ActivityTypes.Message, text, textFormat: 'markdown' };
  // imBack: the label is sent back as the person's own words, which the engine recognises in either language.
  const actions: CardAction[] = message.choices.map((c) => ({ type: ActionTypes.ImBack, title: c.label, value: c.label }));
  return { ...MessageFactory.suggestedActions(actions, text), textFormat: 'markdown' };
}

export function cardMessage(message: RenderedMessage, t: T, options: CardTextOptions = {}): Partial<Activity> {
  const attachment: Attachment = CardFactory.adaptiveCard(stepCard(message, t, options));
  // `text` stays empty: Teams shows the card; the summary feeds notifications.
  return {
    type: ActivityTypes.Message,
    attachments: [attachment],
    summary: message.paragraphs[0] ?? '',
    // A step that waits for typed text (or a file) says so: a card without buttons is otherwise indistinguishable from an ending.
    ...(expectsTyping(message) ? { inputHint: InputHints.ExpectingInput } : {}),
  };
}

function expectsTyping(message: RenderedMessage): boolean {
  return message.expects === 'text' || message.expects === 'attachment';
}

export function renderMessages(channelId: string, messages: RenderedMessage[], t: T): Partial<Activity>[] {
  return messages.map((m) => (isEmpty(m) ? { type: ActivityTypes.Typing } : usesCards(channelId) ? cardMessage(m, t, TEAMS_CARDS) : textMessage(m, t)));
}

/**
 * A turn with nothing to say (a message passed on to a support engineer in a live hand-off,
 * src/handoff/) shows as "typing…" rather than as an empty card: one activity per message still.
 */
function isEmpty(m: RenderedMessage): boolean {
  return !m.paragraphs.length && !m.choices.length && !m.links.length && !m.facts.length;
}
