/**
 * Card replacement: a bot reply whose channelData carries REPLACES_CARD (`{ step, prompt }` of a pressed
 * card's submit data) is not a new message. It replaces the bot's latest card that carried that submit
 * data, under the same id and timestamp, so Web Chat swaps the card in place (as Teams' updateActivity
 * does). The watermark hands out every activity once; this is the one deliberate exception.
 */
import { cardKey, type ActivityLog } from './activity-log';
import type { BotActivity, DirectLineActivity, DirectLineAttachment } from './protocol';

export const REPLACES_CARD = 'pce:replacesCard';

export function isCardReplacement(reply: BotActivity): boolean {
  return reply.channelData?.[REPLACES_CARD] !== undefined;
}

/** The replaced versions of pressed cards: same id, timestamp and place; content from the bot. */
export async function replacedCards(log: Pick<ActivityLog, 'findCard'>, conversationId: string, replacements: BotActivity[]): Promise<DirectLineActivity[]> {
  const out: DirectLineActivity[] = [];
  for (const replacement of replacements) {
    const original = (await log.findCard(conversationId, cardKey(replacementTarget(replacement))))?.activity;
    // No longer kept (the log dropped it): nothing to replace, and no new message either.
    if (!original) continue;
    out.push({ ...original, attachments: replacement.attachments as DirectLineAttachment[] | undefined, suggestedActions: undefined });
  }
  return out;
}

function replacementTarget(reply: BotActivity): { step?: unknown; prompt?: unknown } {
  const target = reply.channelData?.[REPLACES_CARD];
  return typeof target === 'object' && target !== null ? (target as { step?: unknown; prompt?: unknown }) : {};
}
