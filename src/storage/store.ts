/**
 * One storage interface for every backend (SQLite by default, PostgreSQL for several instances).
 * A turn's writes are committed together by `commitTurn`, so a conversation never moves on without
 * its transcript, its activity's re-delivery mark, its funnel events and whatever the features'
 * turn writers add to it (./turn-writers.ts).
 */
import type { Kysely } from 'kysely';
import type { Locale } from '../../dialogs/flow';
import type { StoreDialect } from './migrations/types';
import type { WarmStats } from './sqlite-warmer';
import type { Database } from './schema';
import type { ConversationState, TranscriptEntry, TurnCommit, TurnLoad, TurnLoadRequest } from './turn-commit';
import type { TurnWriter } from './turn-writers';

export type { ConversationState, FunnelEvent, TranscriptEntry, TurnCommit, TurnLoad, TurnLoadRequest } from './turn-commit';
export { STORE_TURN_FIELDS } from './turn-commit';

export interface Store {
  readonly kind: StoreDialect;
  /**
   * The database, for the features' repositories: each declares its own tables and widens this with
   * `db.withTables<MyTables>()`. Inside a transaction use its `trx`, not `db`. Throws until `open()`.
   */
  readonly db: Kysely<Database>;
  /** Opens connections and runs migrations. */
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Adds a feature's writes to every turn that carries them (./turn-writers.ts), before or after
   * `open()`. Registering the same writer again changes nothing; another writer of the same name is
   * refused. A feature's repository registers its writer when it is built on the store.
   */
  registerTurnWriter(writer: TurnWriter): void;
  /**
   * Runs `fn` while no other turn of the same conversation runs in this process. Across PostgreSQL
   * instances nothing is locked: `commitTurn` refuses the later of two racing turns.
   */
  runExclusive<T>(conversationKey: string, fn: () => Promise<T>): Promise<T>;
  /** Whether the activity is among the conversation's latest recorded ones (a re-delivery). */
  isProcessed(conversationKey: string, activityKey: string): Promise<boolean>;
  loadConversation(key: string): Promise<ConversationState | undefined>;
  loadTranscript(key: string): Promise<TranscriptEntry[]>;
  getUserLocale(userKey: string): Promise<Locale | undefined>;
  /**
   * What a turn reads before it runs, in one round trip: whether the activity was already
   * processed, the stored conversation (or that it is still at `knownTurn`) and the user's chosen
   * language (README "Performance").
   */
  loadTurn(input: TurnLoadRequest): Promise<TurnLoad>;
  /**
   * Atomically: upsert the conversation, append transcript and funnel events, mark the activity (and
   * whatever the registered turn writers add). All or nothing. The SQL store refuses, with nothing
   * written, an activity the conversation already recorded (`DuplicateActivityError`), a conversation
   * turn not newer than the stored one (`ConcurrentTurnError`) and a field no registered writer
   * writes (`StorageError`); a database failure is a `StorageError`.
   */
  commitTurn(commit: TurnCommit): Promise<void>;
  /** SQLite on a file: the read-ahead of returning conversations and its counts (./sqlite-warmer.ts); absent otherwise. */
  readonly readAhead?: { readonly stats: WarmStats; ready(): Promise<void> };
}
