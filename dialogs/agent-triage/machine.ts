/**
 * Agent triage intake: a support agent enters the customer's name, email and order number, then the
 * conversation is handed to the troubleshooting flow in agent mode with the customer in its input.
 * Pure: no clock, no I/O; the runtime starts it for people listed in AGENT_IDS ("triage" / "тріаж").
 */
import { assign, setup } from 'xstate';
import type { Choice, CustomerRef, Fact, FlowDefinition, FlowEvent, FlowInput, FlowOutput, Line, StepView } from '../flow';
import { readEmail, readOrderNumber, type FieldResult } from '../support-case/fields';

export const AGENT_TRIAGE_FLOW_ID = 'agent-triage';
/** The flow the customer's triage continues in. */
export const TRIAGE_TARGET_FLOW_ID = 'provisioning-contact';

export const INTAKE_STEPS = ['customerName', 'customerEmail', 'customerOrder'] as const;
export type IntakeStep = (typeof INTAKE_STEPS)[number];

const NAME_MAX = 120;

export interface AgentTriageContext {
  input: FlowInput;
  mode: 'agent';
  customer: CustomerRef;
  /** i18n key of the hint for the last unacceptable answer. */
  hint?: string;
  /** The agent went back to an earlier field: the first one is asked again without the intro. */
  returned?: true;
}

function textOf(event: FlowEvent): string {
  return event.type === 'TEXT' || event.type === 'UNRECOGNISED' ? event.text : '';
}

export function readCustomerName(text: string): FieldResult {
  const name = text.trim().replace(/\s+/g, ' ');
  if (!name || name.length > NAME_MAX || !/\p{L}/u.test(name)) return { ok: false, hint: 'agent:intake.customerName.hint' };
  return { ok: true, value: name };
}

const READERS: Record<IntakeStep, (text: string) => FieldResult> = {
  customerName: readCustomerName,
  customerEmail: (text) => readEmail(text),
  customerOrder: readOrderNumber,
};
const FIELD: Record<IntakeStep, keyof CustomerRef> = { customerName: 'name', customerEmail: 'email', customerOrder: 'orderNumber' };

export const agentTriageMachine = setup({
  types: {
    context: {} as AgentTriageContext,
    events: {} as FlowEvent,
    input: {} as FlowInput,
    output: {} as FlowOutput,
  },
  guards: {
    accepted: ({ event }, p: { step: IntakeStep }) => READERS[p.step](textOf(event)).ok,
    chose: ({ event }, p: { choice: string }) => event.type === 'CHOOSE' && event.choice === p.choice,
  },
  actions: {
    store: assign(({ context, event }, p: { step: IntakeStep }) => {
      const result = READERS[p.step](textOf(event));
      return result.ok ? { hint: undefined, customer: { ...context.customer, [FIELD[p.step]]: result.value } } : {};
    }),
    hintFor: assign(({ event }, p: { step: IntakeStep }) => {
      const result = READERS[p.step](textOf(event));
      return { hint: result.ok ? undefined : result.hint };
    }),
    hint: assign((_, p: { key: string }) => ({ hint: p.key })),
    /** Going back to a field forgets it and everything entered after it. */
    forgetFrom: assign(({ context }, p: { step: IntakeStep }) => {
      const customer = { ...context.customer };
      for (const step of INTAKE_STEPS.slice(INTAKE_STEPS.indexOf(p.step))) delete customer[FIELD[step]];
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
    customerName: {
      on: {
        TEXT: [
          { guard: { type: 'accepted', params: { step: 'customerName' } }, target: 'customerEmail', actions: { type: 'store', params: { step: 'customerName' } } },
          { actions: { type: 'hintFor', params: { step: 'customerName' } } },
        ],
        UNRECOGNISED: { actions: { type: 'hintFor', params: { step: 'customerName' } } },
        BACK: 'cancelled',
      },
    },
    customerEmail: {
      on: {
        TEXT: [
          { guard: { type: 'accepted', params: { step: 'customerEmail' } }, target: 'customerOrder', actions: { type: 'store', params: { step: 'customerEmail' } } },
          { actions: { type: 'hintFor', params: { step: 'customerEmail' } } },
        ],
        UNRECOGNISED: { actions: { type: 'hintFor', params: { step: 'customerEmail' } } },
        BACK: { target: 'customerName', actions: { type: 'forgetFrom', params: { step: 'customerName' } } },
      },
    },
    customerOrder: {
      on: {
        TEXT: [
          { guard: { type: 'accepted', params: { step: 'customerOrder' } }, target: 'handOff', actions: { type: 'store', params: { step: 'customerOrder' } } },
          { actions: { type: 'hintFor', params: { step: 'customerOrder' } } },
        ],
        CHOOSE: [{ guard: { type: 'chose', params: { choice: 'order_unknown' } }, target: 'handOff' }],
        UNRECOGNISED: { actions: { type: 'hintFor', params: { step: 'customerOrder' } } },
        BACK: { target: 'customerEmail', actions: { type: 'forgetFrom', params: { step: 'customerEmail' } } },
      },
    },
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

const NS = 'agent:intake.';

function customerFacts(c: AgentTriageContext): Fact[] {
  const facts: Fact[] = [];
  if (c.customer.name) facts.push({ labelKey: `${NS}fact.name`, value: c.customer.name });
  if (c.customer.email) facts.push({ labelKey: `${NS}fact.email`, value: c.customer.email });
  if (c.customer.orderNumber) facts.push({ labelKey: `${NS}fact.orderNumber`, value: c.customer.orderNumber });
  return facts;
}

export function agentTriageView(snapshot: { value: unknown; context: AgentTriageContext }): StepView {
  const step = String(snapshot.value);
  const c = snapshot.context;
  const lines: Line[] = [];
  const choices: Choice[] = [];
  if ((INTAKE_STEPS as readonly string[]).includes(step)) {
    if (step === 'customerName' && !c.hint && !c.returned) lines.push({ key: `${NS}intro`, opening: true });
    if (c.hint) lines.push({ key: c.hint, notice: true });
    lines.push({ key: `${NS}${step}.prompt` });
    if (step === 'customerOrder') choices.push({ id: 'order_unknown', labelKey: `${NS}customerOrder.unknown` });
    return { step, lines, choices, links: [], facts: customerFacts(c), expects: 'text', helpKey: `${NS}${step}.help` };
  }
  if (step === 'cancelled') {
    return {
      step,
      lines: [{ key: `${NS}cancelled` }],
      choices: [{ id: 'cmd.restart', labelKey: `${NS}startOver` }],
      links: [],
      facts: [],
      expects: 'choice',
      helpKey: `${NS}customerName.help`,
    };
  }
  if (step === 'handOff') {
    // Only seen if the troubleshooting flow is not configured: the engine hands over at once otherwise.
    return { step, lines: [{ key: `${NS}handOff` }], choices: [], links: [], facts: customerFacts(c), expects: 'choice', helpKey: `${NS}customerName.help` };
  }
  throw new Error(`agent-triage: unknown step "${step}"`);
}

export const agentTriageFlow: FlowDefinition<typeof agentTriageMachine> = {
  id: AGENT_TRIAGE_FLOW_ID,
  version: 1,
  machine: agentTriageMachine,
  view: (snapshot) => agentTriageView(snapshot),
};
