/**
 * PLACEHOLDER (being replaced by the full N1-N9 flow): two steps so the runtime can be built
 * against the FlowDefinition contract.
 */
import { assign, setup } from 'xstate';
import type { FlowDefinition, FlowEvent, FlowInput, StepView } from '../flow';

export const provisioningContactMachine = setup({
  types: {
    context: {} as { input: FlowInput; trail: { step: string; choice?: string }[]; misses: number; mode: 'self' | 'agent' },
    events: {} as FlowEvent,
    input: {} as FlowInput,
  },
}).createMachine({
  id: 'provisioningContact',
  context: ({ input }) => ({ input, trail: [], misses: 0, mode: input.mode }),
  initial: 'entry',
  states: {
    entry: {
      on: {
        CHOOSE: [
          { guard: ({ event }) => event.choice === 'never_arrived', target: 'spamCheck', actions: assign({ trail: ({ context }) => [...context.trail, { step: 'entry', choice: 'never_arrived' }] }) },
        ],
        UNRECOGNISED: { actions: assign({ misses: ({ context }) => context.misses + 1 }) },
      },
    },
    spamCheck: {
      on: {
        CHOOSE: [{ guard: ({ event }) => event.choice === 'found', target: 'resolved' }],
        BACK: 'entry',
      },
    },
    resolved: { type: 'final' },
  },
});

export const provisioningContactFlow: FlowDefinition<typeof provisioningContactMachine> = {
  id: 'provisioning-contact',
  version: 1,
  machine: provisioningContactMachine,
  view(snapshot): StepView {
    const step = String(snapshot.value);
    const ns = 'provisioning-contact:';
    const base = { step, links: [], facts: [], expects: 'choice' as const, helpKey: `${ns}${step}.help` };
    if (step === 'entry') return { ...base, lines: [{ key: `${ns}entry.prompt` }], choices: [{ id: 'never_arrived', labelKey: `${ns}entry.never_arrived` }] };
    if (step === 'spamCheck') return { ...base, lines: [{ key: `${ns}spamCheck.prompt` }], choices: [{ id: 'found', labelKey: `${ns}spamCheck.found` }] };
    return { ...base, lines: [{ key: `${ns}resolved.text` }], choices: [], outcome: 'resolved' };
  },
};
