/**
 * The bot side of the local Direct Line endpoint (src/channels/directline/): activities from the web
 * chat run through their own `CloudAdapter` inside the process, configured without an app id, so the
 * adapter behind `POST /api/messages` keeps Teams authentication on. Each activity is processed with
 * `deliveryMode: expectReplies`: the replies come back from `processActivity` instead of going to a
 * connector service, and the Direct Line endpoint puts them in the conversation's activity stream.
 *
 * Mapping and rendering are the Bot Framework channel's own (`toInbound`, `textMessage`/`cardMessage`):
 * the web chat gets text with suggested actions, and an Adaptive Card where a message has facts to show.
 */
import { ActivityTypes, CardFactory, DeliveryModes, type Activity, type TurnContext } from 'botbuilder';
import type { Engine } from '../../engine/engine';
import type { Locale, RenderedMessage } from '../../engine/types';
import { normaliseLocale, type Translator } from '../../i18n';
import type { Logger } from '../../log';
import type { BotBridge } from '../directline/channel';
import { PAGE_EVENTS, REPLACES_CARD } from '../directline/channel';
import type { DirectLineActivity } from '../directline/protocol';
import { cardSubmit, incomingActivity, toInbound } from './activity';
import { createAdapter } from './index';
import { answeredCard, cardMessage, escapeMarkdown, textMessage, type CardTextOptions, type T } from './render';

export interface DirectLineBridgeDeps {
  engine: Pick<Engine, 'handle'>;
  translator: Translator;
  logger: Logger;
}

/** Never contacted (replies are expected in the response); botbuilder wants a URL to build its client. */
const IN_PROCESS_SERVICE_URL = 'http://127.0.0.1/directline';
const LOCALE_KEY = Symbol('pce.directline.locale');

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

export function createDirectLineBridge(deps: DirectLineBridgeDeps): BotBridge {
  const { engine, translator, logger } = deps;
  // No app id: this adapter accepts the in-process activities without a token. It is not routed to
  // any HTTP path, so nothing outside the process reaches it.
  const adapter = createAdapter({ MicrosoftAppId: undefined, MicrosoftAppPassword: undefined, MicrosoftAppType: 'MultiTenant', MicrosoftAppTenantId: undefined });
  const tFor =
    (locale: Locale): T =>
    (key, params) =>
      translator.t(locale, `botframework:${key}`, params);

  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    const { activity } = context;
    logger.error({ err: error, channel: activity.channelId, conversation: activity.conversation?.id, activity: activity.id }, 'web chat turn failed');
    const locale: Locale = context.turnState.get(LOCALE_KEY) ?? normaliseLocale(activity.locale) ?? 'en';
    await context.sendActivity({ type: ActivityTypes.Message, text: tFor(locale)('error.apology') });
  };

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
      const response = await adapter.run('', activity, async (context) => {
        const result = await engine.handle(inbound);
        context.turnState.set(LOCALE_KEY, result.locale);
        if (result.duplicate) return;
        const t = tFor(result.locale);
        const replies: Partial<Activity>[] = result.messages.map((m) => ({ ...renderForWebChat(m, t), locale: result.locale }));
        // A pressed card is retired as in Teams: the endpoint swaps it for its answered version (no buttons).
        const submit = cardSubmit.safeParse(parsed.data.value);
        if (submit.success && submit.data.prompt && (result.answered || result.stale)) {
          replies.unshift({
            type: ActivityTypes.Message,
            attachments: [CardFactory.adaptiveCard(answeredCard(submit.data.prompt, result.answered?.label, t, WEB_CHAT_CARD_TEXT))],
            channelData: { [REPLACES_CARD]: { step: submit.data.step, prompt: submit.data.prompt } },
          });
        }
        if (replies.length) await context.sendActivities(replies);
      });
      const body = response?.body as { activities?: unknown[] } | undefined;
      return body?.activities ?? [];
    },
  };
}
