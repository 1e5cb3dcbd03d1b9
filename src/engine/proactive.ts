/**
 * Turns the bot starts on its own: a case closed by support asks "is it solved?" (issue 21), a
 * hand-off or a follow-up comes back to the person (issues 22, 23). An `Inbound` of kind `event`
 * names what happened; features register which flow that starts over the current one, and with
 * what input. The turn runs under the conversation's lock like any other, its buttons are pressed
 * in ordinary turns, and when the flow ends (or is left with BACK) the person is back where they
 * stood (./handoffs.ts, `FlowOutput.returnToParent`). Channels deliver such a turn through
 * src/channels/proactive-turns.ts.
 */
import type { FlowInput } from '../../dialogs/flow';
import { conversationIdOf, channelOf } from './identity';
import type { Inbound, ProactiveEvent } from './types';

export interface ProactiveFlow {
  /** The id of the flow the event starts (among the engine's flows). */
  flow: string;
  /**
   * The flow's input for the event's data, in the conversation's terms now (`at`: its language,
   * channel and person, the time); undefined when the data is not what the flow needs (then the
   * event changes nothing).
   */
  input(data: unknown, at: FlowInput): unknown;
}

/** Event name → the flow it starts. Features register theirs when the app is assembled. */
export class ProactiveFlows {
  private readonly byEvent = new Map<string, ProactiveFlow>();

  register(event: string, flow: ProactiveFlow): this {
    if (this.byEvent.has(event)) throw new Error(`a flow is already registered for the event ${event}`);
    this.byEvent.set(event, flow);
    return this;
  }

  /** What the event starts, or undefined: no flow registered for it, or data the flow refused. */
  resolve(event: ProactiveEvent | undefined, at: FlowInput): { flow: string; input: unknown } | undefined {
    const registered = event && this.byEvent.get(event.name);
    if (!registered) return undefined;
    const input = registered.input(event.data, at);
    return input === undefined ? undefined : { flow: registered.flow, input };
  }
}

const EVENT_PREFIX = 'event:';

/** The activity id of an event: the same event (name and id) twice is handled once. */
export function eventActivityId(name: string, id: string): string {
  return `${EVENT_PREFIX}${name}:${id}`;
}

/** Whether a channel's activity id is an event's: no activity of the channel exists to reply to. */
export function isEventActivityId(activityId: string | undefined): boolean {
  return activityId?.startsWith(EVENT_PREFIX) ?? false;
}

/** One event for one conversation, as a channel asks for its turn. */
export interface ConversationEvent extends ProactiveEvent {
  /** Unique per event of this name (a case update's id): a repeat is handled once. */
  id: string;
}

/** The Inbound of an event for the conversation `conversationKey`, whose person is `userId`. */
export function eventInbound(conversationKey: string, userId: string, event: ConversationEvent): Inbound {
  return {
    channel: channelOf(conversationKey),
    conversationId: conversationIdOf(conversationKey),
    user: { id: userId },
    activityId: eventActivityId(event.name, event.id),
    kind: 'event',
    event: { name: event.name, ...(event.data === undefined ? {} : { data: event.data }) },
  };
}
