/**
 * The schema's history, in order. Migrations run at open (Kysely Migrator, static provider) for
 * SQLite and PostgreSQL alike; PostgreSQL takes a lock so several instances starting at once migrate
 * once.
 *
 * To add one: create `NNNN-what-it-does.ts` next to this file (the next free number, never edit or
 * renumber a migration that has shipped), export `const migration: StoreMigration = { async up(db, t) {…} }`
 * using `t` for the column types that differ between the dialects, and add it to the list below.
 * Declare its table types in your own repository file and reach them with
 * `store.db.withTables<{ my_table: MyTable }>()`.
 */
import type { Migration, MigrationProvider } from 'kysely';
import type { StoreMigration, StoreDialect } from './types';
import { migration as initial } from './0001-initial';
import { migration as cases } from './0002-cases';
import { migration as directline } from './0003-directline';
import { migration as funnelReportIndexes } from './0004-funnel-report-indexes';
import { migration as webexInbox } from './0005-webex-inbox';
import { migration as retentionIndexes } from './0006-retention-indexes';
import { migration as botConversations } from './0007-bot-conversations';
import { migration as funnelWithoutConversationIndex } from './0008-funnel-events-without-conversation-index';
import { migration as recentActivities } from './0009-recent-activities-in-conversations';
import { migration as directlineTokenExpiry } from './0010-directline-token-expiry-and-card-keys';
import { migration as webchatUploadReservations } from './0011-webchat-upload-reservations';
import { migration as botReplies } from './0012-bot-replies';
import { migration as storeWriteProbe } from './0013-store-write-probe';
import { migration as caseUpdates } from './0014-case-updates';
import { migration as caseAdditions } from './0015-case-additions';
import { migration as followups } from './0016-followups';
import { migration as handoffs } from './0017-handoffs';
import { migration as handoffChannels } from './0018-handoff-channels';
import { migration as lz4 } from './0019-lz4-for-churned-values';
import { migration as channelMark } from './0020-conversation-channel-mark';
import { migration as keptRepliesWithoutRowid } from './0021-kept-replies-without-rowid';
import { migration as funnelRunEdges } from './0022-funnel-kind-index-for-run-edges';
import { migration as conversationsActiveDay } from './0023-conversations-active-day';

const ordered: [name: string, migration: StoreMigration][] = [
  ['0001-initial', initial],
  ['0002-cases', cases],
  ['0003-directline', directline],
  ['0004-funnel-report-indexes', funnelReportIndexes],
  ['0005-webex-inbox', webexInbox],
  ['0006-retention-indexes', retentionIndexes],
  ['0007-bot-conversations', botConversations],
  ['0008-funnel-events-without-conversation-index', funnelWithoutConversationIndex],
  ['0009-recent-activities-in-conversations', recentActivities],
  ['0010-directline-token-expiry-and-card-keys', directlineTokenExpiry],
  ['0011-webchat-upload-reservations', webchatUploadReservations],
  ['0012-bot-replies', botReplies],
  ['0013-store-write-probe', storeWriteProbe],
  ['0014-case-updates', caseUpdates],
  ['0015-case-additions', caseAdditions],
  ['0016-followups', followups],
  ['0017-handoffs', handoffs],
  ['0018-handoff-channels', handoffChannels],
  ['0019-lz4-for-churned-values', lz4],
  ['0020-conversation-channel-mark', channelMark],
  ['0021-kept-replies-without-rowid', keptRepliesWithoutRowid],
  ['0022-funnel-kind-index-for-run-edges', funnelRunEdges],
  ['0023-conversations-active-day', conversationsActiveDay],
];

export type { StoreMigration, StoreDialect, ColumnTypes } from './types';

/** A static provider, so migrations work from TypeScript sources and from a bundle alike. */
export function migrationProvider(dialect: StoreDialect): MigrationProvider {
  return {
    async getMigrations() {
      const all: Record<string, Migration> = {};
      for (const [name, m] of ordered) all[name] = { up: (db) => m.up(db, columnTypes(dialect)) };
      return all;
    },
  };
}

function columnTypes(dialect: StoreDialect) {
  return dialect === 'postgres'
    ? ({ dialect, timestamp: 'timestamptz', json: 'jsonb', bigId: 'bigint' } as const)
    : ({ dialect, timestamp: 'text', json: 'text', bigId: 'integer' } as const);
}
