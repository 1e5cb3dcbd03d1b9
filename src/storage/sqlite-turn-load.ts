/**
 * SQLite: what a turn reads before it runs (`Store.loadTurn`): the conversation and the user's
 * language, two plain key lookups on the store's connection. For a conversation the engine does not
 * hold live, its pages are read first on a worker thread (./sqlite-warmer.ts): the store's and the
 * batch writers' lookups of the rows this turn will read and change, so neither the load nor the
 * commit waits on the disk on the event loop.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../log';
import type { TurnLoadRequest } from './store';
import { SqliteWarmer } from './sqlite-warmer';
import type { BatchTurnWriter } from './turn-writers';

/**
 * The pages the store's own statements of a turn touch at random places of the file: the
 * conversation's row, the user's language, and where the turn's transcript rows go in the
 * transcript's conversation index (next to the conversation's last one). The funnel's rows have no
 * index by conversation (migration 0008): they go at the end of the table, in memory anyway. Each must
 * be a search by an index, never a scan (test/storage/sqlite-plans.test.ts): a scan here ran for every
 * turn and, at a million stored conversations, stopped them all.
 */
export const STORE_WARM = [
  'select length(snapshot) + length(parents) + length(recent_activities) from conversations where key = @key',
  'select locale from user_locales where user_key = @user',
  'select max(id) from transcript_entries where conversation_key = @key',
];

export interface SqliteLoaded {
  stored: Record<string, unknown> | undefined;
  userLocale: unknown;
}

export class SqliteTurnLoad {
  private readonly conversation: BetterSqlite3.Statement;
  private readonly userLocale: BetterSqlite3.Statement;
  /** The read-ahead (undefined for `:memory:` or when switched off). */
  readonly warmer?: SqliteWarmer;
  private readonly writerWarm: string[] = [];

  /** `path`: the database file, for the read-ahead worker (none for `:memory:` or when `warm` is off). */
  constructor(db: BetterSqlite3.Database, path: string | undefined, writers: readonly BatchTurnWriter[], logger: Logger) {
    // Two plain key lookups, not one statement joining them: a lookup by a unique key is planned
    // once, whereas the joined form is planned again for every new key once the database has
    // statistics (ANALYZE, `PRAGMA optimize`), which tripled a load's cost (README "Performance").
    // Snapshot and parents, most of a row, only when the engine does not already hold the stored turn.
    this.conversation = db.prepare(`select key, channel, flow_id, flow_version,
  case when turn = ? then null else snapshot end as snapshot, case when turn = ? then null else parents end as parents,
  locale, turn, user_id, created_at, updated_at, recent_activities, channel_mark from conversations where key = ?`);
    this.userLocale = db.prepare('select locale from user_locales where user_key = ?');
    for (const w of writers) if (w.sqliteWarm) this.writerWarm.push(w.sqliteWarm);
    if (path && path !== ':memory:') this.warmer = new SqliteWarmer(path, this.warmStatements(), logger);
  }

  /** A batch writer registered after open: its lookups join the read-ahead. */
  addWriter(writer: BatchTurnWriter): void {
    if (!writer.sqliteWarm) return;
    this.writerWarm.push(writer.sqliteWarm);
    this.warmer?.setStatements(this.warmStatements());
  }

  async load(input: TurnLoadRequest): Promise<SqliteLoaded> {
    // A conversation the engine holds live was read by this process a moment ago: its pages are in memory.
    if (this.warmer) {
      if (input.knownTurn === undefined) await this.warmer.warm({ key: input.conversationKey, user: input.userKey });
      else this.warmer.read(input.conversationKey);
    }
    // Turns start at 1: -1 matches none.
    const known = input.knownTurn ?? -1;
    return {
      stored: this.conversation.get(known, known, input.conversationKey) as Record<string, unknown> | undefined,
      userLocale: (this.userLocale.get(input.userKey) as { locale: string } | undefined)?.locale,
    };
  }

  async stop(): Promise<void> {
    await this.warmer?.stop();
  }

  private warmStatements(): string[] {
    return [...STORE_WARM, ...this.writerWarm];
  }
}
