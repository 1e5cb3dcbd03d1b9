/**
 * What engineers do in Teams for hand-offs, caught before the engine sees it (./index.ts):
 * - "use this channel for hand-offs" / "використовувати цей канал для передачі", typed in a team's
 *   channel by an agent (AGENT_IDS, by the AAD id a validated token proved: the desk decides), chooses that channel
 *   (./handoff-channels.ts); anyone else is told politely that only agents may;
 * - "Take it" pressed on a request card, and replies (or "end") in a card's reply chain in the chosen
 *   channel, go to the hand-off desk (src/handoff/desk.ts), which decides who may do what;
 * - nothing else said in the chosen channel is a conversation with the bot.
 * Answers go into the same channel (the reply chain they came from). Nobody's words are logged.
 */
import { randomUUID } from 'node:crypto';
import { ActivityTypes, type Activity, type TurnContext } from 'botbuilder';
import { z } from 'zod';
import type { HandoffDesk } from '../../handoff';
import type { HandoffRepository } from '../../handoff/repository';
import type { Inbound } from '../../engine/types';
import type { Translator } from '../../i18n';
import { normaliseText } from '../../nlu/normalise';
import { channelConversationId, threadRootOf, type HandoffChannelsRepository } from './handoff-channels';
import { referenceOf } from './proactive';
import { escapeMarkdown } from './render';

export interface TeamsHandoffInboxDeps {
  desk: HandoffDesk;
  repository: HandoffRepository;
  channels: HandoffChannelsRepository;
  translator: Translator;
  clock?: () => Date;
}

/** "Use this channel for hand-offs", in either language (normalised: lower case, no punctuation). */
const CHOOSES_CHANNEL: [RegExp, 'en' | 'uk'][] = [
  [/^(?:please )?use this channel for (?:hand ?offs?|handoff requests|hand off requests)(?: please)?$/u, 'en'],
  [/^(?:будь ласка )?використов(?:увати|уй|уйте) цей канал для (?:передачі|передач|запитів)(?: розмов| чатів| на розмову з людиною)?(?: будь ласка)?$/u, 'uk'],
];

const takeValue = z.looseObject({ handoff: z.literal('take'), id: z.string().min(1).max(64) });
const teamsChannel = z.looseObject({ team: z.looseObject({ id: z.string() }) });

/** The language the channel was chosen in, when `text` chooses one. */
export function choosesChannel(text: string): 'en' | 'uk' | undefined {
  const normal = normaliseText(text, 'en');
  return CHOOSES_CHANNEL.find(([re]) => re.test(normal))?.[1];
}

/** A message in a team's channel (not a personal or group chat). */
function inTeamChannel(activity: Partial<Activity>): boolean {
  return activity.channelId === 'msteams' && activity.conversation?.conversationType === 'channel' && teamsChannel.safeParse(activity.channelData).success;
}

export class TeamsHandoffInbox {
  constructor(private readonly deps: TeamsHandoffInboxDeps) {}

  /** Handles the activity when it is an engineer's, true then (the engine does not see it). */
  async handle(context: TurnContext, inbound: Inbound): Promise<boolean> {
    const { activity } = context;
    if (inbound.kind !== 'message' || !inTeamChannel(activity)) return false;
    const language = inbound.text ? choosesChannel(inbound.text) : undefined;
    if (language) {
      await this.choose(context, inbound, language);
      return true;
    }
    const chosen = await this.deps.channels.chosen();
    const conversationId = String(activity.conversation?.id ?? '');
    if (!chosen || channelConversationId(conversationId) !== chosen.conversation?.id) return false;
    const expert = {
      user: inbound.user,
      key: `teams:${inbound.user.id}`,
      name: inbound.user.name ?? 'Support engineer',
      space: 'teams' as const,
    };
    const take = takeValue.safeParse(activity.value);
    if (take.success) return this.answer(context, await this.deps.desk.take(take.data.id, expert));
    const root = threadRootOf(conversationId);
    const h = root ? await this.deps.repository.byTeamsActivity(root) : undefined;
    // A post of its own in the engineers' channel, or a chain that is no request's: not for the bot.
    if (!h || (!inbound.text && !inbound.attachments?.length)) return true;
    const message = { id: `msteams:${activity.id ?? randomUUID()}`, text: inbound.text ?? '', files: inbound.attachments ?? [] };
    return this.answer(context, await this.deps.desk.say(h, expert, message));
  }

  private async choose(context: TurnContext, inbound: Inbound, language: 'en' | 'uk'): Promise<void> {
    const { desk, channels, translator } = this.deps;
    const say = (key: string) => translator.t(language, `handoff:expert.${key}`);
    if (!desk.isAgent(inbound.user)) {
      await this.answer(context, say('registerNotAgent'));
      return;
    }
    // The channel itself, not the reply chain the words were typed in: requests start threads of their own.
    const reference = referenceOf(context.activity);
    const conversation = { ...(reference.conversation as object), id: channelConversationId(String(context.activity.conversation?.id)) };
    await channels.choose({ ...reference, conversation } as Parameters<HandoffChannelsRepository['choose']>[0], `msteams:${inbound.user.id}`, (this.deps.clock ?? (() => new Date()))());
    await this.answer(context, say('channelRegistered'));
  }

  private async answer(context: TurnContext, text: string | undefined): Promise<true> {
    if (text) await context.sendActivity({ type: ActivityTypes.Message, text: escapeMarkdown(text), textFormat: 'markdown' });
    return true;
  }
}
