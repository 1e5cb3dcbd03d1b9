/**
 * Agent triage intake: a support agent enters the customer's name, email and order number (the
 * table in steps.ts), then the conversation is handed to the troubleshooting flow in agent mode
 * with the customer in its input. Pure: no clock, no I/O; the runtime starts it for people listed
 * in AGENT_IDS ("triage" / "тріаж").
 */
import { assign, setup } from 'xstate';
import type { CustomerRef, FlowDefinition, FlowEvent, FlowInput, FlowOutput } from '../flow';
import { chose, onChoose, statesOf, stepsOf, textOf } from '../kit';
import { AGENT_TRIAGE_FLOW_ID, INTAKE, TRIAGE_TARGET_FLOW_ID, type IntakeField, type IntakeStep } from './steps';
import { agentTriageView } from './view';
import type { AgentTriageContext } from './context';

export type { AgentTriageContext } from './context';

export { AGENT_TRIAGE_FLOW_ID, TRIAGE_TARGET_FLOW_ID } from './steps';
export const INTAKE_STEPS = stepsOf(INTAKE);

const read = (step: IntakeStep, event: FlowEvent) => INTAKE[step].read(textOf(event));

export const agentTriageMachine = setup({
  types: {
    context: {} as AgentTriageContext,
    events: {} as FlowEvent,
    input: {} as FlowInput,
    output: {} as FlowOutput,
  },
  guards: {
    accepted: ({ event }, p: { step: IntakeStep }) => read(p.step, event).ok,
    chose,
  },
  actions: {
    store: assign(({ context, event }, p: { step: IntakeStep }) => {
      const result = read(p.step, event);
      return result.ok ? { hint: undefined, customer: { ...context.customer, [INTAKE[p.step].field]: result.value } } : {};
    }),
    hintFor: assign(({ event }, p: { step: IntakeStep }) => {
      const result = read(p.step, event);
      return { hint: result.ok ? undefined : result.hint };
    }),
    hint: assign((_, p: { key: string }) => ({ hint: p.key })),
    /** Going back to a field forgets it and everything entered after it. */
    forgetFrom: assign(({ context }, p: { step: IntakeStep }) => {
      const customer = { ...context.customer };
      for (const step of INTAKE_STEPS.slice(INTAKE_STEPS.indexOf(p.step))) delete customer[INTAKE[step].field];
      return { customer, hint: undefined, returned: true as const };
    }),
  },
}).createMachine({
  id: 'agentTriage',
  context: ({ input }) => ({ input, mode: 'agent' as const, customer: {} }),
  output: ({ event }) => event.output as FlowOutput,
  initial: 'customerName',
  on: {
    SUPPORT: { actions: { type: 'hint', params: { key: 'agent:intake.supportHere' } } },
    RESUME: { actions: assign({ returned: true as const }) },
  },
  states: {
    // Each field in turn: a valid answer is kept and leads on; BACK forgets the field before and
    // asks it again, and from the first field cancels the triage.
    ...statesOf(INTAKE, (step, field: IntakeField) => {
      const at = INTAKE_STEPS.indexOf(step);
      const previous = INTAKE_STEPS[at - 1];
      return {
        on: {
          TEXT: [
            { guard: { type: 'accepted' as const, params: { step } }, target: INTAKE_STEPS[at + 1] ?? 'handOff', actions: { type: 'store' as const, params: { step } } },
            { actions: { type: 'hintFor' as const, params: { step } } },
          ],
          ...(field.options ? { CHOOSE: onChoose(field.options, () => undefined) } : {}),
          UNRECOGNISED: { actions: { type: 'hintFor' as const, params: { step } } },
          BACK: previous ? { target: previous, actions: { type: 'forgetFrom' as const, params: { step: previous } } } : 'cancelled',
        },
      };
    }),
    handOff: {
      type: 'final',
      output: ({ context }): FlowOutput => ({
        outcome: 'handed_over',
        next: { flow: TRIAGE_TARGET_FLOW_ID, input: { ...context.input, mode: 'agent', customer: context.customer } satisfies FlowInput },
      }),
    },
    cancelled: { type: 'final', output: { outcome: 'cancelled' } },
  },
});

export const agentTriageFlow: FlowDefinition<typeof agentTriageMachine> = {
  id: AGENT_TRIAGE_FLOW_ID,
  version: 1,
  machine: agentTriageMachine,
  view: agentTriageView,
};
