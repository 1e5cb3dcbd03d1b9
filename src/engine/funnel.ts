/** The funnel events of one turn (no personal data; src/storage/store.ts `FunnelEvent`). */
import type { AnyMachineSnapshot } from 'xstate';
import type { FlowEvent, Locale, StepView } from '../../dialogs/flow';
import type { FunnelEvent } from '../storage/store';
import type { TakenAnswer } from './answers-in-message';

export interface TurnFacts {
  at: string;
  conversationKey: string;
  channel: string;
  locale: Locale;
  /** A new run of the entry flow began this turn. */
  started: boolean;
  /** The step shown differs from the one before (or the run is new). */
  entered: boolean;
  /** The step the event answered. */
  answeredStep: string;
  /** Answers the same message gave to later questions (./answers-in-message.ts). */
  taken: TakenAnswer[];
  /** Flows that finished this turn and handed over to the next. */
  handedOver: { step: string; outcome: string }[];
}

export function funnelEvents(turn: TurnFacts, snapshot: AnyMachineSnapshot, view: StepView, event: FlowEvent | undefined): FunnelEvent[] {
  const { started, entered, answeredStep, taken, handedOver } = turn;
  const mode = ((snapshot.context as { mode?: 'self' | 'agent' } | undefined)?.mode ?? 'self') as 'self' | 'agent';
  const { at, conversationKey, channel, locale } = turn;
  // Plain literals, not `{ ...base, kind }`: a spread then extended costs several times the object
  // (an allocation profile of the bench, issue 19), and these rows live until the commit.
  const row = (kind: FunnelEvent['kind'], step: string, value?: string): FunnelEvent =>
    value === undefined ? { at, conversationKey, channel, locale, mode, kind, step } : { at, conversationKey, channel, locale, mode, kind, step, value };
  const out: FunnelEvent[] = [];
  if (event?.type === 'CHOOSE') out.push(row('answer', answeredStep, event.choice));
  // The questions the same message answered too, each as answered (./answers-in-message.ts).
  for (const t of taken) out.push(row('answer', t.step, t.choice));
  if (started) out.push(row('started', view.step));
  // A flow that finished and handed over (needs_case -> support-case intake) ended too.
  for (const h of handedOver) out.push(row('outcome', h.step, h.outcome));
  if (entered) out.push(row('step_entered', view.step));
  if (entered && view.outcome) out.push(row('outcome', view.step, view.outcome));
  // One per committed turn: turn counts and the last activity (idle -> abandoned) come from these.
  out.push(row('turn', view.step));
  return out;
}
