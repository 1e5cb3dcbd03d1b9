/**
 * Moving between flows within a turn: where the conversation stands (`Place`: the running flow and
 * the flows it was handed over from), a new run, the hand-off an ending offers, going back from an
 * ending, and a finished flow handing over to the next (or a cancelled one resuming its parent).
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { FlowDefinition, FlowEvent, FlowOutput, Line } from '../../dialogs/flow';
import type { ConversationState } from '../storage/store';
import { persistLater, type FlowActors, type Running } from './flow-actors';
import type { TurnScope } from './scope';

/** Hand-offs followed in one turn at most (a flow that finishes at once hands over again). */
const MAX_HANDOFFS = 3;

export type Parent = ConversationState['parents'][number];

/** Where the conversation stands during a turn; the phases below move it. */
export interface Place {
  running: Running;
  /** Flows this one was handed over from (outermost first), resumed when the person goes back. */
  parents: Parent[];
  /** A new run of the entry flow began this turn (funnel reports count runs, not chat threads). */
  started: boolean;
}

export interface HandoffContext {
  actors: FlowActors;
  flows: Map<string, FlowDefinition>;
  /** The entry flow: every run starts here. */
  entry: FlowDefinition;
  scope: TurnScope;
  /** Lines said above the step this turn (an apology when a stored flow cannot be resumed). */
  prefix: Line[];
  /** The entry flow's input for a new run now. */
  entryInput: () => unknown;
}

const parentOf = (running: Running, snapshot: unknown): Parent => ({ flowId: running.flow.id, flowVersion: running.flow.version, snapshot });

/** Ends what runs and begins a new run (of the guide, unless told) with nothing to go back to. */
export function beginRun(place: Place, ctx: HandoffContext, flow: FlowDefinition = ctx.entry, input: unknown = ctx.entryInput()): void {
  place.running.actor.stop();
  place.parents = [];
  place.running = ctx.actors.start(flow, input, ctx.scope);
  place.started = true;
}

/** Starts `flow` over the running one, which is kept as it stands to go back to. */
export function startOnTop(place: Place, ctx: HandoffContext, flow: FlowDefinition, input: unknown): void {
  place.parents = [...place.parents, parentOf(place.running, place.running.actor.getPersistedSnapshot())];
  place.running.actor.stop();
  place.running = ctx.actors.start(flow, input, ctx.scope);
}

/**
 * Before the event is sent: asking for support after an ending takes the hand-off the ended flow
 * offered; anything else after an ending starts the guide again; BACK at an ending returns to the
 * question answered last. Returns the event still to send.
 */
export function routeAfterEnding(place: Place, ctx: HandoffContext, before: AnyMachineSnapshot, beforeActor: Running['actor'], event: FlowEvent | undefined): FlowEvent | undefined {
  const offered = before.status === 'done' ? (before.output as FlowOutput | undefined)?.onSupport : undefined;
  const offeredFlow = offered && ctx.flows.get(offered.flow);
  if (event?.type === 'SUPPORT' && offered && offeredFlow && place.running.actor === beforeActor) {
    // Asking for support after an ending takes the hand-off the ended flow offered (agent: open the case).
    startOnTop(place, ctx, offeredFlow, offered.input);
    event = undefined;
  }

  if (event && before.status === 'done' && event.type !== 'BACK') {
    // The flow already ended: anything but a command starts it again.
    beginRun(place, ctx);
    ctx.prefix.push({ key: 'common:startedAgain' });
    if (event.type === 'CHOOSE' || event.type === 'UNRECOGNISED' || event.type === 'TEXT') event = undefined;
  }

  if (event?.type === 'BACK' && before.status === 'done' && place.running.flow === ctx.entry && place.running.actor === beforeActor && place.parents.length > 0) {
    // Back from an ending: the question answered last, kept when the ending was reached.
    const parent = place.parents[place.parents.length - 1]!;
    const resumed = ctx.actors.restore(parent.flowId, parent.flowVersion, parent.snapshot, ctx.scope, ctx.prefix);
    if (resumed) {
      place.parents = place.parents.slice(0, -1);
      place.running.actor.stop();
      place.running = resumed;
      event = undefined;
    }
  }
  return event;
}

/**
 * After the event: a finished flow with `next` starts the next flow, a cancelled one (or one with
 * `returnToParent`) resumes its parent, each settled in turn; when the guide reached an ending, the
 * question before it is kept so BACK can return there. `resumePoint`: where the person stood before
 * the event, persisted when called (./flow-actors.ts `persistLater`).
 */
export async function followHandOffs(
  place: Place,
  ctx: HandoffContext,
  settled: AnyMachineSnapshot,
  resumePoint: () => unknown,
): Promise<{ snapshot: AnyMachineSnapshot; handedOver: { step: string; outcome: string }[] }> {
  let snapshot = settled;
  const handedOver: { step: string; outcome: string }[] = [];
  for (let hops = 0; snapshot.status === 'done' && hops < MAX_HANDOFFS; hops++) {
    const output = snapshot.output as FlowOutput | undefined;
    if (output?.next) {
      const next = ctx.flows.get(output.next.flow);
      if (!next) break; // no such flow configured: the finished view stands
      handedOver.push({ step: place.running.flow.view(snapshot as never).step, outcome: output.outcome });
      place.parents = [...place.parents, parentOf(place.running, resumePoint())];
      place.running.actor.stop();
      place.running = ctx.actors.start(next, output.next.input, ctx.scope);
      resumePoint = persistLater(place.running.actor);
    } else if ((output?.outcome === 'cancelled' || output?.returnToParent) && place.parents.length > 0) {
      const parent = place.parents[place.parents.length - 1]!;
      if (output.outcome !== 'cancelled') {
        // A flow the bot started on its own ended (src/engine/proactive.ts): over an ending, its own
        // ending stands; over a question, its last lines go above that question, asked again.
        if ((parent.snapshot as { status?: string } | null)?.status !== 'active') break;
        const ended = place.running.flow.view(snapshot as never);
        handedOver.push({ step: ended.step, outcome: output.outcome });
        ctx.prefix.push(...ended.lines);
      }
      place.parents = place.parents.slice(0, -1);
      place.running.actor.stop();
      const resumed = ctx.actors.restore(parent.flowId, parent.flowVersion, parent.snapshot, ctx.scope, ctx.prefix);
      // The question to go back to is gone (an updated or damaged flow): the person is put at the
      // start of the guide, a new run like any other (funnel `started`).
      if (resumed) {
        place.running = resumed;
        // Asked again as a return, not as the run's opening (no second greeting).
        place.running.actor.send({ type: 'RESUME' });
      } else beginRun(place, ctx);
      resumePoint = persistLater(place.running.actor);
    } else {
      break;
    }
    snapshot = await ctx.actors.settle(place.running.actor);
  }

  if (snapshot.status === 'done' && place.running.flow === ctx.entry && (resumePoint() as { status?: string }).status === 'active') {
    // The guide reached an ending this turn: keep the question before it so BACK can return there.
    place.parents = [...place.parents, parentOf(place.running, resumePoint())];
  }
  return { snapshot, handedOver };
}
