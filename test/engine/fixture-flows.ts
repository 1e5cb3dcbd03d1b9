/**
 * Two tiny flows for engine tests, so the engine's rules (hand-off, back into the parent, stale presses,
 * restore) are proven independently of the real troubleshooting flow's content.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { FlowDefinition, FlowEvent, FlowInput, FlowOutput, StepView } from '../../dialogs/flow';

const view = (step: string, choices: string[], extra: Partial<StepView> = {}): StepView => ({
  step,
  lines: [{ key: `fixture:${step}` }],
  choices: choices.map((id) => ({ id, labelKey: `fixture:choice.${id}` })),
  links: [],
  facts: [],
  expects: 'choice',
  helpKey: `fixture:help.${step}`,
  ...extra,
});

export const entryMachine = setup({
  types: { context: {} as { input: FlowInput }, events: {} as FlowEvent, input: {} as FlowInput, output: {} as FlowOutput },
}).createMachine({
  id: 'fixture-entry',
  context: ({ input }) => ({ input }),
  output: ({ event }) => event.output as FlowOutput,
  initial: 'ask',
  states: {
    ask: {
      on: {
        CHOOSE: [
          { guard: ({ event }) => event.choice === 'yes', target: 'done' },
          { guard: ({ event }) => event.choice === 'no', target: 'handOff' },
        ],
        SUPPORT: 'handOff',
      },
    },
    done: { type: 'final', output: { outcome: 'resolved' } },
    handOff: {
      type: 'final',
      output: ({ context }) => ({ outcome: 'needs_case', next: { flow: 'fixture-intake', input: { user: context.input.user.id } } }),
    },
  },
});

export const entryFlow: FlowDefinition<typeof entryMachine> = {
  id: 'fixture-entry',
  version: 1,
  machine: entryMachine,
  view: (s) =>
    s.matches('ask') ? view('ask', ['yes', 'no']) : s.matches('done') ? view('done', [], { outcome: 'resolved' }) : view('handOff', [], { outcome: 'needs_case' }),
};

export const intakeMachine = setup({
  types: {
    context: {} as { user: string; reference?: string; text?: string },
    events: {} as FlowEvent,
    input: {} as { user: string },
    output: {} as FlowOutput,
  },
  actors: { openCase: fromPromise<{ reference: string }, { user: string }>(async () => ({ reference: 'unset' })) },
}).createMachine({
  id: 'fixture-intake',
  context: ({ input }) => ({ user: input.user }),
  output: ({ event }) => event.output as FlowOutput,
  initial: 'describe',
  states: {
    describe: {
      on: {
        BACK: 'cancelled',
        TEXT: { target: 'opening', actions: assign({ text: ({ event }) => event.text }) },
      },
    },
    opening: {
      tags: ['busy'],
      invoke: {
        src: 'openCase',
        input: ({ context }) => ({ user: context.user }),
        onDone: { target: 'opened', actions: assign({ reference: ({ event }) => event.output.reference }) },
        onError: 'failed',
      },
    },
    opened: { type: 'final', output: { outcome: 'case_opened' } },
    failed: { on: { CHOOSE: 'opening' } },
    cancelled: { type: 'final', output: { outcome: 'cancelled' } },
  },
});

export const intakeFlow: FlowDefinition<typeof intakeMachine> = {
  id: 'fixture-intake',
  version: 1,
  machine: intakeMachine,
  view: (s) => {
    if (s.matches('describe')) return view('describe', [], { expects: 'text' });
    if (s.matches('opened')) return { ...view('opened', [], { outcome: 'case_opened' }), lines: [{ key: 'fixture:opened', params: { reference: s.context.reference ?? '' } }] };
    if (s.matches('failed')) return view('failed', ['retry']);
    return view(String(s.value), []);
  },
};

export const fixtureResources = {
  en: {
    common: {
      stale: 'Stale press.', welcomeBack: 'Welcome back.', notUnderstood: 'Not understood.', startedAgain: 'Started again.',
      restartedAfterUpdate: 'Guide updated, starting again.', restartedAfterError: 'Could not resume, starting again.',
      languageSwitched: 'English now.', triageUnavailable: 'No triage.',
    },
    fixture: {
      ask: 'Did it work?', done: 'Great.', handOff: 'Handing off.', describe: 'Describe the problem.', opened: 'Case {{reference}} opened.', failed: 'Failed.',
      choice: { yes: 'Yes', no: 'No', retry: 'Retry' },
      help: { ask: 'Help for ask.', describe: 'Help for describe.' },
    },
    recognizer: { choices: { yes: ['yep'], no: ['nope'] }, commands: { back: ['back'], restart: ['start over'], help: ['help'], language: ['language'], lang_uk: ['ukrainian'], lang_en: ['english'], support: ['support'] } },
  },
  uk: {
    common: {
      stale: 'Застаріла кнопка.', welcomeBack: 'З поверненням.', notUnderstood: 'Не зрозумів.', startedAgain: 'Почали знову.',
      restartedAfterUpdate: 'Посібник оновлено, почнімо знову.', restartedAfterError: 'Не вдалося продовжити, починаємо знову.',
      languageSwitched: 'Тепер українською.', triageUnavailable: 'Тріажу немає.',
    },
    fixture: {
      ask: 'Вдалося?', done: 'Чудово.', handOff: 'Передаю.', describe: 'Опишіть проблему.', opened: 'Звернення {{reference}} відкрито.', failed: 'Не вдалося.',
      choice: { yes: 'Так', no: 'Ні', retry: 'Ще раз' },
      help: { ask: 'Довідка до питання.', describe: 'Довідка до опису.' },
    },
    recognizer: { choices: { yes: ['ага'], no: ['нє'] }, commands: { back: ['назад'], restart: ['спочатку'], help: ['допомога'], language: ['мова'], lang_uk: ['українська'], lang_en: ['англійська'], support: ['підтримка'] } },
  },
};
