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
  const base = { at: turn.at, conversationKey: turn.conversationKey, channel: turn.channel, locale: turn.locale, mode };
  const out: FunnelEvent[] = [];
  if (event?.type === 'CHOOSE') out.push({ ...base, kind: 'answer', step: answeredStep, value: event.choice });
  // The questions the same message answered too, each as answered (./answers-in-message.ts).
  for (const t of taken) out.push({ ...base, kind: 'answer', step: t.step, value: t.choice });
  if (started) out.push({ ...base, kind: 'started', step: view.step });
  // A flow that finished and handed over (needs_case -> support-case intake) ended too.
  for (const h of handedOver) out.push({ ...base, kind: 'outcome', step: h.step, value: h.outcome });
  if (entered) out.push({ ...base, kind: 'step_entered', step: view.step });
  if (entered && view.outcome) out.push({ ...base, kind: 'outcome', step: view.step, value: view.outcome });
  // One per committed turn: turn counts and the last activity (idle -> abandoned) come from these.
  out.push({ ...base, kind: 'turn', step: view.step });
  return out;
}
