/**
 * Talking to a person (issue 22) as tables: the offer beside a case (the guide's N9 ending, during
 * opening hours; outside them, when people are back and a case), the live chat a support engineer took, "is it solved?" once it ended, and the
 * case offered when nobody could take it. The runtime starts the flow (src/handoff/): at `offer` from
 * the guide, at `live`, `ended` or `expired` on its own (src/engine/proactive.ts); its states, step
 * list and view derive from the tables here (machine.ts, view.ts). Pure: no clock, no I/O.
 */
import { z } from 'zod';
import { flowInput, type OutcomeKind } from '../flow';
import { caseDraft } from '../support-case/case-draft';

export const HANDOFF_FLOW_ID = 'handoff';
/** Events that start the flow (src/engine/proactive.ts): an engineer took it, the chat ended, nobody came. */
export const HANDOFF_TAKEN_EVENT = 'handoffTaken';
export const HANDOFF_ENDED_EVENT = 'handoffEnded';
export const HANDOFF_EXPIRED_EVENT = 'handoffExpired';
/** The button that ends a live chat (the runtime also ends it for a typed "end"). */
export const END_CHAT = 'end_chat';

/** Where the flow starts: the guide's offer, or what the runtime tells. */
export const stage = z.enum(['offer', 'live', 'ended', 'expired']);

/** The hand-off as the person is told about it: the engineer's name is shown as written. */
export const handoffFacts = z.object({
  id: z.string().min(1).max(64).optional(),
  expert: z.string().max(200).optional(),
  endedBy: z.enum(['person', 'expert']).optional(),
  waitMinutes: z.number().positive().optional(),
});

/** What the flow starts with: the runtime's input for this conversation, the stage, what is known for a case. */
export const handoffInput = z.object({ flowInput, stage, handoff: handoffFacts, draft: caseDraft.partial() });
export type HandoffInput = z.infer<typeof handoffInput>;

/** An event's data (`handoffInput` without the flow input, which the engine adds). */
export const handoffEventData = handoffInput.omit({ flowInput: true });
export type HandoffEventData = z.infer<typeof handoffEventData>;

/** When engineers are back (outside opening hours): `when` is today, tomorrow or a weekday (mon…sun). */
export const backAt = z.object({ when: z.enum(['today', 'tomorrow', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']), time: z.string(), zone: z.string() });
export type BackAt = z.infer<typeof backAt>;

/**
 * What the runtime's `handoffAvailability` answers: may a person be asked for now? `closed`: there
 * are engineers, but outside their hours (and `back` says when they are); else the feature is off.
 */
export const availability = z.object({ open: z.boolean(), closed: z.boolean().optional(), back: backAt.optional() });
export type Availability = z.infer<typeof availability>;
/** What the runtime's `requestHandoff` answers once the request is kept. */
export const requested = z.object({ id: z.string(), waitMinutes: z.number().positive() });
export type Requested = z.infer<typeof requested>;

/** Questions, with their options (`worked`/`failed` share the guide's yes/no synonyms). */
export const QUESTIONS = {
  offerAsk: { options: { talk_person: { to: 'requesting' }, open_case: { to: 'toCase' } } },
  // Outside opening hours: when engineers are back, and a case now so they have it then.
  closedAsk: { options: { open_case: { to: 'toCase' } } },
  live: { options: { [END_CHAT]: { to: 'solvedAsk' } } },
  solvedAsk: { options: { worked: { to: 'solved' }, failed: { to: 'toCase' } } },
  expiredOffer: { options: { new_case: { to: 'toCase' }, not_now: { to: 'declined' } } },
} as const;
export type QuestionStep = keyof typeof QUESTIONS;

/**
 * Endings and what each counts as. `toCase` hands over to the case intake with what is known; the
 * others go back to where the person stood (`returnToParent`); `left`: the chat ended while
 * something else was asked on top of it, and "is it solved?" was asked there.
 */
export const ENDINGS = {
  requested: { outcome: 'handoff_requested' },
  solved: { outcome: 'resolved_by_person' },
  declined: { outcome: 'handoff_unanswered' },
  toCase: { outcome: 'needs_case' },
  left: { outcome: 'handed_over' },
} as const satisfies Record<string, { outcome: OutcomeKind | 'handed_over' }>;
export type FinalStep = keyof typeof ENDINGS;

/** Every step a person can see in this flow (the funnel report keeps them apart from the guide's runs). */
export const HANDOFF_STEPS: readonly string[] = [...Object.keys(QUESTIONS), ...Object.keys(ENDINGS), 'offer', 'requesting', 'cancelled'];
