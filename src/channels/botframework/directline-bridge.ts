/**
 * The bot side of the local Direct Line endpoint (src/channels/directline/): activities from the web
 * chat run through their own `CloudAdapter` inside the process, configured without an app id, so the
 * adapter behind `POST /api/messages` keeps Teams authentication on. Each activity is processed with
 * `deliveryMode: expectReplies`: the replies come back from `processActivity` instead of going to a
 * connector service, and the Direct Line endpoint puts them in the conversation's activity stream.
 *
 * The turn is the Bot Framework channel's own (./turn.ts, with `toInbound` and `textMessage`/`cardMessage`):
 * the web chat gets text with suggested actions, and an Adaptive Card where a message has facts to show.
 */
import { ActivityTypes, CardFactory, DeliveryModes, type Activity } from 'botbuilder';
import type { RenderedMessage } from '../../engine/types';
import { normaliseLocale } from '../../i18n';
import type { BotBridge } from '../directline/channel';
import { PAGE_EVENTS, REPLACES_CARD } from '../directline/channel';
import type { DirectLineActivity } from '../directline/protocol';
import { incomingActivity, toInbound } from './activity';
import { createAdapter } from './adapter';
import { answeredCard, cardMessage, escapeMarkdown, textMessage, type CardTextOptions, type T } from './render';
import { BotTurns, inResponse, pressedCard, type BotTurnsDeps } from './turn';

export type DirectLineBridgeDeps = BotTurnsDeps;

/** Never contacted (replies are expected in the response); botbuilder wants a URL to build its client. */
const IN_PROCESS_SERVICE_URL = 'http://127.0.0.1/directline';

/**
 * The page's language switch arrives as an event; the engine knows it as a command that a button can
 * carry, so it becomes a message whose value is that command (the person's choice is then remembered).
 */
export function fromPageEvent(activity: DirectLineActivity): DirectLineActivity {
  if (activity.type !== 'event' || activity.name !== PAGE_EVENTS.setLanguage) return activity;
  const locale = normaliseLocale(typeof activity.value === 'string' ? activity.value : undefined);
  if (!locale) return activity;
  const { name: _name, ...rest } = activity;
  return { ...rest, type: 'message', text: '', value: { choice: `cmd.lang_${locale}` } };
}

/**
 * Web Chat renders the text of cards as markdown, with raw HTML, just as it renders message text: what
 * the engine says (the person's own words among it: emails, file names, a customer's name) is escaped
 * there too, so it shows as typed and never becomes a link, an image or an element.
 */
const WEB_CHAT_CARD_TEXT: CardTextOptions = { plain: escapeMarkdown };

/** Web Chat renders Adaptive Cards: a message with facts (a case summary) is clearer as a card. */
export function renderForWebChat(message: RenderedMessage, t: T): Partial<Activity> {
  if (message.facts.length) return cardMessage(message, t, WEB_CHAT_CARD_TEXT);
  // Web Chat renders markdown, where a single newline is no break: keep the lines of a paragraph
  // (a case summary to paste) as the person should see them.
  const paragraphs = message.paragraphs.map((p) => p.replace(/[ \t]*\n/g, '  \n'));
  return textMessage({ ...message, paragraphs }, t);
}

/**
 * The replies come back in the response, in the conversation's language, on their way into the
 * activity stream. A pressed card is retired as in Teams (not after a command button that moved the
 * conversation: that one is answered as outdated if pressed again): the endpoint swaps it for its
 * answered version (no buttons).
 */
const intoStream = inResponse({
  render: (_channelId, result, t) => result.messages.map((m) => ({ ...renderForWebChat(m, t), locale: result.locale })),
  retireCard(context, result, t, replies) {
    const pressed = pressedCard(context.activity, result, false);
    if (!pressed?.submit.prompt) return undefined;
    const { prompt, step } = pressed.submit;
    replies.unshift({
      type: ActivityTypes.Message,
      attachments: [CardFactory.adaptiveCard(answeredCard(prompt, pressed.answer, t, WEB_CHAT_CARD_TEXT))],
      channelData: { [REPLACES_CARD]: { step, prompt } },
    });
    return undefined;
  },
});

export function createDirectLineBridge(deps: DirectLineBridgeDeps): BotBridge {
  // No app id: this adapter accepts the in-process activities without a token. It is not routed to
  // any HTTP path, so nothing outside the process reaches it.
  const adapter = createAdapter({ MicrosoftAppId: undefined, MicrosoftAppPassword: undefined, MicrosoftAppType: 'MultiTenant', MicrosoftAppTenantId: undefined });
  const turns = new BotTurns(deps);
  turns.guard(adapter, 'web chat turn failed');

  return {
    async process(input: DirectLineActivity): Promise<unknown[]> {
      const parsed = incomingActivity.safeParse({
        ...fromPageEvent(input),
        serviceUrl: IN_PROCESS_SERVICE_URL,
        deliveryMode: DeliveryModes.ExpectReplies,
      });
      if (!parsed.success) throw new Error(`activity ${input.id} is not a valid Bot Framework activity`);
      const inbound = toInbound(parsed.data);
      if (!inbound) return [];
      const activity = { ...parsed.data, timestamp: new Date(input.timestamp) } as unknown as Activity;
      const key = `${inbound.channel}:${inbound.conversationId}`;
      const response = await adapter.run('', activity, (context) => turns.run(context, inbound, key, intoStream));
      const body = response?.body as { activities?: unknown[] } | undefined;
      return body?.activities ?? [];
    },
  };
}
