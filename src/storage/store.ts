/**
 * One storage interface for every backend (SQLite by default, PostgreSQL for several instances).
 * A turn's writes are committed together by `commitTurn`, so a conversation never moves on without
 * its transcript, its activity's re-delivery mark, the cases it opened and its funnel events.
 */
import type { Locale } from '../engine/types';
import type { NewCase } from './cases-repository';
import type { TurnReplies } from './bot-replies-repository';

export interface ConversationState {
  key: string;
  channel: string;
  flowId: string;
  flowVersion: number;
  /** XState `getPersistedSnapshot()`; validated by the engine before it is restored. */
  snapshot: unknown;
  locale: Locale;
  /** Flows this one was handed over from (outermost first), restored when the person goes back. */
  parents: { flowId: string; flowVersion: number; snapshot: unknown }[];
  /** How many turns this conversation has had (also used to tell outdated cards). */
  turn: number;
  userId: string;
  createdAt: string;
  updatedAt: string;
}

export interface TranscriptEntry {
  at: string;
  from: 'user' | 'bot';
  text: string;
}

/**
 * A funnel event without personal data. `started`: a new run of the entry flow (first turn, start
 * over); `turn`: one per committed turn; `answer`: the choice id picked at `step`; `outcome`: a flow
 * ended at `step` with `value` = its OutcomeKind (also when it hands over to a next flow).
 */
export interface FunnelEvent {
  at: string;
  conversationKey: string;
  channel: string;
  locale: Locale;
  mode: 'self' | 'agent';
  kind: 'started' | 'step_entered' | 'answer' | 'outcome' | 'turn';
  step: string;
  value?: string;
}

export interface TurnCommit {
  conversation: ConversationState;
  transcript: TranscriptEntry[];
  /**
   * `${channel}:${activityId}`: recorded with the conversation (among its latest activities) so a
   * re-delivery is recognised.
   */
  activityKey?: string;
  /** The person picked a language explicitly: remembered per user across conversations. */
  userLocale?: { userKey: string; locale: Locale };
  funnel?: FunnelEvent[];
  /** Support cases confirmed in this turn, with their outbox state (./cases-repository.ts). */
  cases?: NewCase[];
  /**
   * The turn's replies, kept until the channel has them (./bot-replies-repository.ts). Written by the
   * batched commit itself (not a turn writer), so keeping them costs no statement of its own.
   */
  replies?: TurnReplies;
}

export interface TurnLoad {
  processed: boolean;
  conversation?: ConversationState;
  userLocale?: Locale;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Opens connections and runs migrations. */
  open(): Promise<void>;
  close(): Promise<void>;
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
   * processed, the stored conversation and the user's chosen language (README "Performance").
   */
  loadTurn(input: { conversationKey: string; userKey: string; activityKey?: string }): Promise<TurnLoad>;
  /**
   * Atomically: upsert the conversation, append transcript and funnel events, mark the activity (and
   * whatever the turn writers in ./turn-writers.ts add). All or nothing. The SQL store refuses, with
   * nothing written, an activity the conversation already recorded (`DuplicateActivityError`) and a conversation turn
   * not newer than the stored one (`ConcurrentTurnError`); a database failure is a `StorageError`.
   */
  commitTurn(commit: TurnCommit): Promise<void>;
}
