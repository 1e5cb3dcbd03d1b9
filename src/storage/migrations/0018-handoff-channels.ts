/**
 * Where engineers take hand-offs in Teams (issue 22): the channel an agent chose by typing "use this
 * channel for hand-offs" there, as the conversation reference the bot posts requests with. One row
 * per expert space (only `teams` today), so a restart or another instance posts to the same channel.
 * Written by src/channels/botframework/handoff-channels.ts.
 */
import type { StoreMigration } from './types';

export const migration: StoreMigration = {
  async up(db, t) {
    await db.schema
      .createTable('handoff_channels')
      .addColumn('space', 'text', (c) => c.primaryKey())
      /** The channel's conversation reference (its base conversation id, no thread). */
      .addColumn('reference', t.json, (c) => c.notNull())
      /** `${channel}:${id}` of the agent who chose it (an id, not a name). */
      .addColumn('chosen_by', 'text', (c) => c.notNull())
      .addColumn('chosen_at', t.timestamp, (c) => c.notNull())
      .execute();
  },
};
