/**
 * What one turn reads and writes: the conversation, its transcript, funnel events, and the fields
 * features add to `TurnCommit` by module augmentation (`declare module '…/storage/turn-commit'`).
 */
import type { Locale } from '../../dialogs/flow';

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
  /** What the channel last stored beside the conversation, as its mark (`TurnOptions.marked`); '' for none. */
  channelMark?: string;
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

/**
 * What a turn commits. A feature with rows of its own in the turn adds its field to this interface
 * (`declare module '…/storage/turn-commit' { interface TurnCommit { cases?: NewCase[] } }` beside its
 * repository) and registers the turn writer that writes it (`Store.registerTurnWriter`).
 */
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
}

/** The fields the store writes itself; any other field of a `TurnCommit` needs a registered turn writer. */
export const STORE_TURN_FIELDS: readonly string[] = ['conversation', 'transcript', 'activityKey', 'userLocale', 'funnel'] satisfies (keyof TurnCommit)[];

export interface TurnLoad {
  processed: boolean;
  /** The stored conversation; left out when it is `unchanged`. */
  conversation?: ConversationState;
  /**
   * The conversation is stored at exactly the `knownTurn` the caller asked with: the caller still
   * holds that row (the engine keeps it with the flow's live actor), so its large columns were not
   * read (issue 19).
   */
  unchanged?: true;
  userLocale?: Locale;
}

export interface TurnLoadRequest {
  conversationKey: string;
  userKey: string;
  activityKey?: string;
  /** The turn at which the caller holds the conversation's row: unless the store has moved on, it is not read again. */
  knownTurn?: number;
}
