/**
 * Engineers in a Teams channel, as the Bot Framework sends their activities: posts in a team's
 * channel (`conversationType: 'channel'`, `channelData.team`), replies in a post's reply chain
 * (`<channel>;messageid=<root>`), and card presses (`value`, `replyToId`). What the bot posts there is
 * read back from the fake connector.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { FakeConnector, SentActivity, UpdatedActivity } from '../channels/botframework/fake-connector';
import { parseReply } from '../channels/botframework/harness';

export const CHANNEL = '19:handoff-engineers@thread.tacv2';
const TEAM = '19:support-team@thread.tacv2';

export interface Engineer {
  id: string;
  name: string;
}

export const OLENA: Engineer = { id: '29:1olena-teams', name: 'Olena Bondar' };
export const SAM: Engineer = { id: '29:1sam-teams', name: 'Sam Stranger' };

export class TeamsChannel {
  constructor(
    private readonly connector: FakeConnector,
    private bot: string,
  ) {}

  reconnect(bot: string): void {
    this.bot = bot;
  }

  /** `who` posts in the channel (`thread`: in that post's reply chain); `value`: a card press. */
  async post(who: Engineer, fields: { text?: string; thread?: string; value?: unknown }): Promise<number> {
    const conversationId = fields.thread ? `${CHANNEL};messageid=${fields.thread}` : CHANNEL;
    const activity = {
      type: 'message',
      id: `1${Date.now()}${Math.floor(Math.random() * 1e6)}`,
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: this.connector.url,
      from: { id: who.id, name: who.name, aadObjectId: randomUUID() },
      conversation: { id: conversationId, conversationType: 'channel', isGroup: true, tenantId: 'tenant-1' },
      recipient: { id: '28:bot-app-id', name: 'PCE Support' },
      text: fields.text ?? '',
      ...(fields.value ? { value: fields.value, replyToId: fields.thread } : {}),
      channelData: { team: { id: TEAM }, channel: { id: CHANNEL }, tenant: { id: 'tenant-1' } },
    };
    const res = await fetch(`${this.bot}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    return res.status;
  }

  /** `who` presses "Take it" on the card. */
  pressTake(who: Engineer, card: SentActivity): Promise<number> {
    const take = parseReply(card.activity, card.id).card!.actions.find((a) => (a.data as { handoff?: string } | undefined)?.handoff === 'take');
    if (!take) throw new Error('the card has no "Take it" button');
    return this.post(who, { thread: card.id, value: take.data });
  }

  /** The bot's new posts in the channel (request cards), not replies. */
  cards(): SentActivity[] {
    return this.connector.sentTo(CHANNEL).filter((s) => !s.inReplyTo && parseReply(s.activity).card);
  }

  /** What the bot wrote in the card's reply chain (or as a reply to a message there), as read. */
  chain(card: SentActivity): string[] {
    return this.connector.sent.filter((s) => s.conversationId === `${CHANNEL};messageid=${card.id}`).map((s) => unescape(String(s.activity.text ?? '')));
  }

  /** The card as everyone sees it now (its latest edit). */
  latest(card: SentActivity): ReturnType<typeof parseReply> {
    const edits: UpdatedActivity[] = this.connector.updates.filter((u) => u.id === card.id);
    const now = edits.at(-1);
    return now ? parseReply(now.activity, card.id) : parseReply(card.activity, card.id);
  }

  /** Waits for exactly one new request card (beyond `before`) and returns it. */
  newCard(before: number, eventually: <T>(check: () => T) => Promise<T>): Promise<SentActivity> {
    return eventually(() => {
      const cards = this.cards();
      expect(cards).toHaveLength(before + 1);
      return cards.at(-1)!;
    });
  }
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}
