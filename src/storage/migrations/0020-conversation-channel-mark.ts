/**
 * `conversations.channel_mark`: what the conversation's channel last stored beside it, as a short
 * mark the channel chooses (the Bot Framework channel: the route of the conversation reference it
 * keeps for proactive messages). Every turn reads and rewrites the conversation row anyway, so the
 * engine compares the mark after the load and adds the channel's rows to the commit only when it
 * changed: a returning person's unchanged reference costs no statement (`TurnOptions.marked`,
 * issue 19). Empty for rows stored before: their next turn stores the channel's rows once.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db) {
    await db.schema
      .alterTable('conversations')
      .addColumn('channel_mark', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
  },
};
