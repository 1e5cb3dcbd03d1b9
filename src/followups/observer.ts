/**
 * The person writing first cancels their pending follow-ups (issue 23), in the same commit as that
 * message's turn. Which conversations have one is known without a query: a follow-up is accepted at an
 * ending of the after-ending flow, whose snapshot says so (`followupPending`), and stays in the
 * conversation's flow stack until the next message, which is the one that cancels it. Presses and
 * words that stay with the offers (a rating after "check back", "thanks", "status") cancel nothing;
 * neither do the bot's own event turns (the follow-up itself).
 */
import { AFTER_ENDING_FLOW_ID, FOLLOWUP_FLOW_ID } from '../../dialogs/followup/contract';
import type { TurnObserver } from '../engine/scope';
import type { ConversationState } from '../storage/store';
import { cancelFollowups } from './actors';

const pending = (flowId: string, snapshot: unknown) =>
  flowId === AFTER_ENDING_FLOW_ID && (snapshot as { context?: { followupPending?: unknown } } | null)?.context?.followupPending === true;

/** Whether the stored conversation stands at (or over) an ending whose follow-up is pending. */
export function hasPendingFollowup(stored: ConversationState): boolean {
  return pending(stored.flowId, stored.snapshot) || stored.parents.some((p) => pending(p.flowId, p.snapshot));
}

export function cancelOnMessage(onCancel?: () => void): TurnObserver {
  return (scope, turn) => {
    if (scope.inbound.kind === 'event' || !turn.stored || turn.flowId === AFTER_ENDING_FLOW_ID || turn.flowId === FOLLOWUP_FLOW_ID) return;
    if (!hasPendingFollowup(turn.stored) || scope.commit.followups?.cancelled?.length) return;
    cancelFollowups(scope, 'wrote');
    onCancel?.();
  };
}
