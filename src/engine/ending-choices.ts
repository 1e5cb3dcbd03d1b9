/**
 * Choices an ending offers beyond the flow's own (issue 23: "did this help?", "check back with me
 * tomorrow"): pressed (or typed) at a flow that has finished, they do not start the guide again but
 * start the flow the runtime names over the ending, which stays beneath it. Which choices these are
 * and what they start is the feature's business (dialogs/followup/offers.ts `afterEndingStart`).
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { FlowEvent, FlowInput, StepView } from '../../dialogs/flow';
import type { Running } from './flow-actors';
import { startOnTop, type HandoffContext, type Place } from './handoffs';

/** The flow a press of `choice` at the ending `ended` starts, with its input; undefined: not one of these. */
export type EndingChoices = (choice: string, ended: { flowId: string; snapshot: AnyMachineSnapshot; view: StepView }, at: FlowInput) => { flow: string; input: unknown } | undefined;

/**
 * Before the event is sent: a choice the finished flow's ending offers beyond its own starts its flow
 * over the ending. Returns the press, to send to that flow (a flow's actors cannot run before it has
 * started), or undefined when the choice is none of these.
 */
export function chooseAfterEnding(
  choices: EndingChoices | undefined,
  place: Place,
  ctx: HandoffContext,
  at: { before: AnyMachineSnapshot; beforeActor: Running['actor']; beforeView: StepView; event: FlowEvent | undefined },
): FlowEvent | undefined {
  const { before, beforeActor, beforeView, event } = at;
  if (!choices || event?.type !== 'CHOOSE' || before.status !== 'done' || place.running.actor !== beforeActor) return undefined;
  const started = choices(event.choice, { flowId: place.running.flow.id, snapshot: before, view: beforeView }, ctx.entryInput() as FlowInput);
  const flow = started && ctx.flows.get(started.flow);
  if (!started || !flow) return undefined;
  startOnTop(place, ctx, flow, started.input);
  return event;
}
