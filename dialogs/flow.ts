/**
 * The contract between a troubleshooting flow (a pure XState machine) and the runtime in src/.
 * Flows speak in i18n keys and choice ids; they never format text for a channel.
 * This file imports nothing but xstate types and zod: dialogs/ stays free of I/O, clock and env.
 * What crosses the edge (the input a flow starts with, files) is a zod schema with its type inferred,
 * so the check and the type cannot drift apart.
 */
import type { AnyStateMachine, SnapshotFrom } from 'xstate';
import { z } from 'zod';

export const locale = z.enum(['en', 'uk']);
export type Locale = z.infer<typeof locale>;
export const LOCALES: readonly Locale[] = locale.options;

/** Self-service, or a support agent triaging for a customer. */
export const flowMode = z.enum(['self', 'agent']);

/** One paragraph a person reads: an i18n key plus interpolation values. */
export interface Line {
  key: string;
  params?: Record<string, string | number>;
  /** The runtime appends the step's options to this paragraph, numbered (a re-prompt that lists them again). */
  listChoices?: boolean;
  /**
   * A remark on the message just handled (a re-prompt, a hint, "nothing to go back to"): shown only
   * in the turn whose event the flow handled, never again on a turn the flow did not see (small talk,
   * help, a language switch, a clarifying question).
   */
  notice?: boolean;
  /**
   * Opens the run or the step (a greeting, an intro): shown when the step is put to the person anew
   * (a new run, another step, another language), not when the same question is asked again.
   */
  opening?: boolean;
}

/** One option the person can pick; `id` is what buttons carry and what free text is recognised to. */
export interface Choice {
  id: string;
  labelKey: string;
  params?: Record<string, string | number>;
}

export interface Link {
  labelKey: string;
  url: string;
}

export interface Fact {
  labelKey: string;
  /** A value shown as is (an order number, an email) or, when `valueKey` is set, translated. */
  value?: string;
  valueKey?: string;
}

export type OutcomeKind =
  | 'resolved'
  | 'redirected_admin'
  | 'forwarded_to_owner'
  | 'needs_case'
  | 'case_opened'
  /** Asked after support closed the case (dialogs/case-closure/): the person says it is solved. */
  | 'resolved_by_support'
  /** ... or that it is not, and asks for the case to be reopened. */
  | 'reopen_requested'
  /** Asked by a follow-up the person accepted at an ending (dialogs/followup/): the email arrived. */
  | 'confirmed_by_followup'
  /** Talk to a person (dialogs/handoff/): a support engineer was asked to join the chat. */
  | 'handoff_requested'
  /** ... the chat with the engineer ended and the person says it is solved. */
  | 'resolved_by_person'
  /** ... nobody could join in time, and the person did not want a case then. */
  | 'handoff_unanswered';

/** What the person sees at the current step, before translation. */
export interface StepView {
  /** The state the flow waits in, e.g. `orderLineStatus`. Buttons carry it so outdated presses are detected. */
  step: string;
  lines: Line[];
  choices: Choice[];
  links: Link[];
  facts: Fact[];
  /** The step waits for typed text (an order number, an email) rather than a choice. */
  expects: 'choice' | 'text' | 'attachment';
  /** Help text for this step: what it means and why it is asked. */
  helpKey: string;
  /** Set when the flow has reached a final state. */
  outcome?: OutcomeKind;
}

/** Events every flow understands. The engine maps button presses, free text and commands to these. */
export type FlowEvent =
  | { type: 'CHOOSE'; choice: string }
  | { type: 'TEXT'; text: string }
  | { type: 'ATTACH'; files: AttachmentRef[] }
  | { type: 'UNRECOGNISED'; text: string }
  | { type: 'BACK' }
  | { type: 'JUMP'; step: string }
  | { type: 'RESTART' }
  | { type: 'SUPPORT' }
  /**
   * Sent by the runtime to a flow it resumes because the flow it had handed over to was left (back
   * from a support-case intake's first field): the current question is asked again, without the
   * greeting or intro that opened the run.
   */
  | { type: 'RESUME' };

/** A file the person sent (ATTACH), as the channel keeps it for the case. */
export const attachmentRef = z.object({
  name: z.string(),
  contentType: z.string(),
  size: z.number().int().nonnegative().optional(),
  url: z.string(),
});
export type AttachmentRef = z.infer<typeof attachmentRef>;

/** The customer of an agent triage, as the agent entered them. */
export const customerRef = z.object({ name: z.string().optional(), email: z.string().optional(), orderNumber: z.string().optional() });
export type CustomerRef = z.infer<typeof customerRef>;

/** What the runtime hands a flow when a conversation starts: no clock, no env, no I/O inside. */
export const flowInput = z.object({
  locale,
  channel: z.string(),
  user: z.object({ id: z.string(), name: z.string().optional(), email: z.string().optional() }),
  mode: flowMode,
  /** ISO time the conversation started, from the runtime's clock. */
  startedAt: z.string(),
  /** Agent mode: the customer the agent triages for (`user` is the agent). */
  customer: customerRef.optional(),
});
export type FlowInput = z.infer<typeof flowInput>;

/**
 * What a flow's final state outputs (`output` in the machine config). `next` hands the conversation
 * to another flow (e.g. the support-case intake) with the given input; the engine keeps this flow's
 * snapshot from just before the answer that finished it. A next flow that ends with outcome
 * `cancelled` (BACK from its first step) resumes the parent at that question.
 * XState makes a final state's `output` the machine's output only through the machine's own
 * `output`, so every flow declares `output: ({ event }) => event.output` at its root.
 */
export interface FlowOutput {
  /** `handed_over`: an intake flow (e.g. agent triage's customer details) that only leads to `next`. */
  outcome: OutcomeKind | 'cancelled' | 'handed_over';
  next?: { flow: string; input: unknown };
  /**
   * A hand-off still on offer after this flow ended: when the person asks for support (SUPPORT,
   * `cmd.support`) at the final step, the engine starts this flow instead of starting over.
   */
  onSupport?: { flow: string; input: unknown };
  /**
   * A flow the bot started on its own over another (an event turn, src/engine/proactive.ts): when it
   * ends, the person is put back at the question they stood at, with this flow's last lines above it.
   * When they stood at an ending, this flow's ending stands.
   */
  returnToParent?: boolean;
  [extra: string]: unknown;
}

export interface FlowDefinition<TMachine extends AnyStateMachine = AnyStateMachine> {
  id: string;
  /** Bump when a change makes stored snapshots of older versions unsafe to restore. */
  version: number;
  machine: TMachine;
  view(snapshot: SnapshotFrom<TMachine>): StepView;
  /** Recognition vocabulary per choice id lives in locales/<lng>/recognizer.json. */
}
