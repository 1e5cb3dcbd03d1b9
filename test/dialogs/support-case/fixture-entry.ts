/**
 * A small entry flow standing in for the troubleshooting flow: one question, and "open a case"
 * hands over to the support-case intake with a draft as the real N9 does.
 */
import { setup } from 'xstate';
import type { FlowDefinition, FlowEvent, FlowInput, FlowOutput, StepView } from '../../../dialogs/flow';
import type { CaseDraft } from '../../../dialogs/support-case/case-draft';
import { createTranslator, loadResources } from '../../../src/i18n';

export type DraftFor = (input: FlowInput) => Partial<CaseDraft>;

export function fixtureEntryFlow(draftFor: DraftFor): FlowDefinition {
  const machine = setup({
    types: { context: {} as { input: FlowInput }, events: {} as FlowEvent, input: {} as FlowInput, output: {} as FlowOutput },
  }).createMachine({
    id: 'fixtureEntry',
    context: ({ input }) => ({ input }),
    initial: 'ask',
    states: {
      ask: { on: { CHOOSE: { target: 'needsCase' }, SUPPORT: { target: 'needsCase' } } },
      needsCase: { type: 'final' },
    },
    output: ({ context }) => ({
      outcome: 'needs_case',
      next: { flow: 'support-case', input: { flowInput: context.input, draft: draftFor(context.input) } },
    }),
  });
  return {
    id: 'fixture-entry',
    version: 1,
    machine,
    view(snapshot): StepView {
      const step = String(snapshot.value);
      return {
        step,
        lines: [{ key: `fixture:${step}` }],
        choices: step === 'ask' ? [{ id: 'open_case', labelKey: 'fixture:openCase' }] : [],
        links: [],
        facts: [],
        expects: 'choice',
        helpKey: 'fixture:ask',
        outcome: step === 'needsCase' ? 'needs_case' : undefined,
      };
    },
  };
}

/** The real locales plus the fixture's few strings. */
export function fixtureTranslator() {
  const resources = loadResources();
  resources.en.fixture = { ask: 'Did the fixes work?', openCase: 'Open a case', needsCase: 'Handing over.' };
  resources.uk.fixture = { ask: 'Чи допомогли поради?', openCase: 'Відкрити звернення', needsCase: 'Передаю.' };
  return createTranslator(resources);
}
