/**
 * What the runtime's own pieces (actors a flow declares, intents) see of the turn they run in.
 * Kept apart from the engine so features (cases) depend on this, not on the engine.
 */
import type { Line, Locale } from '../../dialogs/flow';
import type { ConversationState, TurnCommit } from '../storage/store';
import type { Inbound } from './types';

/** What runtime-provided actors and intents may see and add to during one turn. */
export interface TurnScope {
  conversationKey: string;
  inbound: Inbound;
  /**
   * The Inbound with who the person is as the channel knows them (Teams: the email), looked up now
   * if the turn has not yet: what a case or a hand-off records of the person. `inbound` is this
   * from then on.
   */
  identified(): Promise<Inbound>;
  locale: Locale;
  now: string;
  /** Extra writes committed in the same transaction as the turn (e.g. a new case). */
  commit: Partial<Omit<TurnCommit, 'conversation' | 'transcript'>>;
}

/**
 * Answers a message before the flow sees it (e.g. "status of PCE-000123"). Returning lines means
 * "handled": the flow does not move, the lines are shown above the current step.
 */
export type Intent = (text: string, scope: TurnScope) => Promise<Line[] | undefined>;

/**
 * Sees every turn just before it commits: the conversation as stored before it, and the flow it
 * stands in now. May add rows to `scope.commit` (a message cancels pending follow-ups). Synchronous
 * and cheap: it runs on every turn.
 */
export type TurnObserver = (scope: TurnScope, turn: { stored?: ConversationState; flowId: string }) => void;
