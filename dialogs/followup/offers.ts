/**
 * The one piece every ending shares (issue 23): "did this help?" (👍/👎) and, where the ending's
 * output offers it (`FlowOutput.followup`) and its channel can reach the person later, "check back
 * with me tomorrow". `withEndingOffers` adds them to a flow's ending views; `afterEndingStart` turns a
 * press of one into the after-ending flow's input, started over the ending by the runtime. Pure: the
 * delay and which channels can be reached later are the runtime's config, passed in.
 */
import type { Choice, FlowDefinition, FlowInput, FlowOutput, StepView } from '../flow';
import { flowMode } from '../flow';
import { keysIn } from '../kit';
import {
  AFTER_ENDING_FLOW_ID,
  afterEndingCarry,
  CHECK_BACK,
  followupOffer,
  HELPED,
  NOT_HELPED,
  type AfterEndingCarry,
  type AfterEndingInput,
  type EndingChoiceId,
  type FollowupOffer,
} from './contract';

export interface EndingOffersConfig {
  /** Follow-ups on offer (FOLLOWUPS_ENABLED): the delay, and which channels reach a person later. */
  followup?: { hours: number; reachable(channel: string): boolean };
}

const { option } = keysIn('followup:');

/** "Check back with me tomorrow" (24 hours) or "… in N hours". */
export function checkBackChoice(hours: number): Choice {
  return hours === 24 ? option(CHECK_BACK, 'offer.checkBackTomorrow') : { ...option(CHECK_BACK, 'offer.checkBackIn'), params: { count: hours } };
}

/** The shared offers, in the order they are shown after the ending's own choices. */
export function endingOfferChoices(offer: { rate: boolean; checkBackHours?: number }): Choice[] {
  const choices = offer.rate ? [option(HELPED, 'offer.helped'), option(NOT_HELPED, 'offer.notHelped')] : [];
  return offer.checkBackHours ? [...choices, checkBackChoice(offer.checkBackHours)] : choices;
}

/** An ending's output offering a follow-up (for the endings' `output`): self-service only. */
export function offerFollowup(ending: FollowupOffer['ending'], c: { mode: 'self' | 'agent'; input: FlowInput }): { followup?: FollowupOffer } {
  return c.mode === 'self' ? { followup: { ending, channel: c.input.channel } } : {};
}

interface EndedSnapshot {
  status?: string;
  output?: unknown;
  context?: unknown;
}

/** The follow-up an ended flow offers under this config, if any. */
function followupAt(output: FlowOutput | undefined, config: EndingOffersConfig): AfterEndingCarry['followup'] {
  // Views of endings ask this several times a turn: nothing offered is answered without a failed parse.
  if (output?.followup === undefined || !config.followup) return undefined;
  const offer = followupOffer.safeParse(output.followup);
  if (!offer.success || !config.followup.reachable(offer.data.channel)) return undefined;
  // What it knows for a case is the hand-off's input, carried once beside it (`followupIntake`).
  return { ending: offer.data.ending, hours: config.followup.hours };
}

/** A flow whose endings also ask "did this help?" and offer the follow-up their output names. */
export function withEndingOffers<F extends FlowDefinition>(flow: F, config: EndingOffersConfig): F {
  // An ending's view is asked for several times a turn; its output (the same object each time) is parsed once.
  const hoursOf = new WeakMap<object, number | undefined>();
  const checkBackHours = (output: FlowOutput | undefined): number | undefined => {
    if (!output || typeof output !== 'object') return followupAt(output, config)?.hours;
    if (!hoursOf.has(output)) hoursOf.set(output, followupAt(output, config)?.hours);
    return hoursOf.get(output);
  };
  const view = (snapshot: EndedSnapshot): StepView => {
    const v = flow.view(snapshot as never);
    if (!v.outcome || snapshot.status !== 'done') return v;
    return { ...v, choices: [...v.choices, ...endingOfferChoices({ rate: true, checkBackHours: checkBackHours(snapshot.output as FlowOutput | undefined) })] };
  };
  return { ...flow, view };
}

/**
 * The after-ending flow's start for a press of `choice` at the ending `ended` (a flow that finished,
 * shown as `view`), or undefined when the ending offers no such thing. An ending of the after-ending
 * flow itself hands on what it carries (rated already, a follow-up pending).
 */
export function afterEndingStart(
  choice: string,
  ended: { flowId: string; snapshot: EndedSnapshot; view: StepView },
  at: FlowInput,
  config: EndingOffersConfig,
): { flow: string; input: AfterEndingInput } | undefined {
  if (![HELPED, NOT_HELPED, CHECK_BACK].includes(choice) || ended.snapshot.status !== 'done') return undefined;
  if (!ended.view.choices.some((c) => c.id === choice)) return undefined;
  const output = ended.snapshot.output as FlowOutput | undefined;
  let carry: AfterEndingCarry | undefined;
  if (ended.flowId === AFTER_ENDING_FLOW_ID) {
    const carried = afterEndingCarry.safeParse(output?.carry);
    // The hand-off is the output's own (rows stored earlier also have it in the carry).
    const onSupport = carried.success ? (carried.data.onSupport ?? output?.onSupport) : undefined;
    carry = carried.success ? { ...carried.data, ...(onSupport ? { onSupport } : {}) } : undefined;
  } else if (ended.view.outcome) {
    const mode = flowMode.safeParse((ended.snapshot.context as { mode?: unknown } | undefined)?.mode);
    carry = {
      ending: { flow: ended.flowId, step: ended.view.step, outcome: ended.view.outcome, mode: mode.success ? mode.data : 'self' },
      followup: followupAt(output, config),
      rated: false,
      followupPending: false,
      ...(output?.onSupport ? { onSupport: output.onSupport } : {}),
      showsSupport: ended.view.choices.some((c) => c.id === 'cmd.support'),
    };
  }
  if (!carry || (choice === CHECK_BACK && !carry.followup)) return undefined;
  return { flow: AFTER_ENDING_FLOW_ID, input: { ...carry, flowInput: { ...at, mode: carry.ending.mode }, choice: choice as EndingChoiceId } };
}
