/**
 * The support-case intake: asks for what a case needs (skipping what the troubleshooting flow already
 * knows), shows a summary the person confirms or corrects field by field, then asks the runtime's
 * `openCase` actor to store the case. Pure: no clock, no I/O, no formatting.
 */
import { and, assign, fromPromise, setup } from 'xstate';
import { attachmentRef, type FlowEvent } from '../flow';
import { choice, chose, onChoose, statesOf, textOf, toEachStep } from '../kit';
import {
  REQUEST_TYPE,
  type IntakeDraft,
  type CaseStatusInput,
  type CaseStatusOutput,
  type OpenCaseInput,
  type OpenCaseOutput,
  type SupportCaseInput,
} from './contract';
import { DONT_KNOW, FIELDS, isNotKnown, isUnknowable, QUESTION_STEPS, readField, SUMMARY_OPTIONS, TEXT_FIELDS, type QuestionStep, type TextField } from './steps';

export interface SupportCaseContext {
  draft: IntakeDraft;
  /** Steps to return to on BACK, most recent last. Empty on the first question: BACK cancels. */
  history: QuestionStep[];
  /** The current question was reached from the summary ("Edit"): an answer returns there. */
  editing: boolean;
  /** The i18n key of the specific hint for the last unacceptable answer. */
  hint?: string;
  /** The person went back to an earlier question: the first one is asked again without the intro. */
  returned?: true;
  attachmentsAsked: boolean;
  opened?: OpenCaseOutput;
  status?: CaseStatusOutput;
  statusUnavailable: boolean;
  mode: 'self' | 'agent';
}

function initialDraft(input: SupportCaseInput): IntakeDraft {
  const { flowInput, draft } = input;
  return {
    requestType: REQUEST_TYPE,
    locale: draft.locale ?? flowInput.locale,
    channel: draft.channel ?? flowInput.channel,
    mode: draft.mode ?? flowInput.mode,
    requester: draft.requester ?? { ...flowInput.user },
    customer: draft.customer,
    orderNumber: draft.orderNumber,
    subscriptionId: draft.subscriptionId,
    currentContactEmail: draft.currentContactEmail,
    newContactEmail: draft.newContactEmail,
    orderLineStatus: draft.orderLineStatus,
    canEditInCcw: draft.canEditInCcw,
    ponrPassed: draft.ponrPassed,
    fixesTried: draft.fixesTried ?? [],
    attachments: draft.attachments ?? [],
    trail: draft.trail ?? [],
    reason: draft.reason ?? 'requested',
  };
}

type FieldParams = { field: TextField };
type StepParams = { step: QuestionStep };

export const supportCaseMachine = setup({
  types: {
    context: {} as SupportCaseContext,
    events: {} as FlowEvent,
    input: {} as SupportCaseInput,
    output: {} as { outcome: 'cancelled' },
  },
  actors: {
    // Provided by the runtime (src/cases/); these defaults fail so a missing wiring is visible.
    openCase: fromPromise<OpenCaseOutput, OpenCaseInput>(async () => {
      throw new Error('openCase is not provided by the runtime');
    }),
    caseStatus: fromPromise<CaseStatusOutput, CaseStatusInput>(async () => {
      throw new Error('caseStatus is not provided by the runtime');
    }),
  },
  guards: {
    fieldAccepted: ({ context, event }, p: FieldParams) => readField(p.field, textOf(event), context.draft).ok,
    editing: ({ context }) => context.editing,
    historyTop: ({ context }, p: StepParams) => context.history[context.history.length - 1] === p.step,
    historyEmpty: ({ context }) => context.history.length === 0,
    chose,
    missing: ({ context }, p: FieldParams) => !context.draft[FIELDS[p.field].draftKey] && !isNotKnown(context.draft, p.field),
    attachmentsNotAsked: ({ context }) => !context.attachmentsAsked,
    hasAttachments: ({ context }) => context.draft.attachments.length > 0,
    validFiles: ({ event }) =>
      event.type === 'ATTACH' && event.files.length > 0 && event.files.every((f) => attachmentRef.safeParse(f).success),
  },
  actions: {
    storeField: assign(({ context, event }, p: FieldParams) => {
      const result = readField(p.field, textOf(event), context.draft);
      if (!result.ok) return {};
      return {
        hint: undefined,
        draft: {
          ...context.draft,
          [FIELDS[p.field].draftKey]: result.value,
          ...(isNotKnown(context.draft, p.field) ? { unknownFields: context.draft.unknownFields!.filter((f) => f !== p.field) } : {}),
          trail: [...context.draft.trail, { step: `case.${p.field}`, text: result.value }],
        },
      };
    }),
    /** "Не знаю": the field is recorded as not known, and the next step says where it can be found. */
    storeUnknown: assign(({ context }, p: FieldParams) => {
      if (!isUnknowable(p.field)) return {};
      const field = p.field;
      return {
        hint: `support-case:${field}.notedUnknown`,
        draft: {
          ...context.draft,
          [FIELDS[field].draftKey]: undefined,
          unknownFields: [...(context.draft.unknownFields ?? []).filter((f) => f !== field), field],
          trail: [...context.draft.trail, { step: `case.${field}`, choice: DONT_KNOW }],
        },
      };
    }),
    hintField: assign(({ context, event }, p: FieldParams) => {
      const result = readField(p.field, textOf(event), context.draft);
      return { hint: result.ok ? undefined : result.hint };
    }),
    hint: assign((_, p: { key: string }) => ({ hint: p.key })),
    clearHint: assign({ hint: undefined }),
    push: assign(({ context }, p: StepParams) => ({ history: [...context.history, p.step], hint: undefined })),
    pop: assign(({ context }) => ({ history: context.history.slice(0, -1), hint: undefined, editing: false, returned: true as const })),
    startEditing: assign(({ context }) => ({ history: [...context.history, 'summary' as const], editing: true, hint: undefined })),
    /** Back on the summary after an edit: the summary's own history entry is consumed. */
    finishEditing: assign(({ context }) => ({ history: context.history.slice(0, -1), editing: false, hint: undefined })),
    addFiles: assign(({ context, event }) => {
      if (event.type !== 'ATTACH') return {};
      const files = event.files.map((f) => attachmentRef.parse(f));
      return {
        hint: undefined,
        draft: {
          ...context.draft,
          attachments: [...context.draft.attachments, ...files],
          trail: [...context.draft.trail, { step: 'case.attachments', text: files.map((f) => f.name).join(', ') }],
        },
      };
    }),
    clearFiles: assign(({ context }) => ({ draft: { ...context.draft, attachments: [] }, hint: undefined })),
    attachmentsAnswered: assign(({ context }) => ({
      attachmentsAsked: true,
      hint: undefined,
      draft: {
        ...context.draft,
        trail: [...context.draft.trail, { step: 'case.attachments', choice: context.draft.attachments.length ? 'done' : 'skip' }],
      },
    })),
    confirmed: assign(({ context }) => ({
      hint: undefined,
      draft: { ...context.draft, trail: [...context.draft.trail, { step: 'case.summary', choice: 'confirm' }] },
    })),
    rememberOpened: assign(({ event }) => {
      const output = (event as unknown as { output: OpenCaseOutput }).output;
      return { opened: output, status: undefined, statusUnavailable: false };
    }),
    rememberStatus: assign(({ event }) => ({
      status: (event as unknown as { output: CaseStatusOutput }).output,
      statusUnavailable: false,
      hint: undefined,
    })),
    statusUnavailable: assign({ statusUnavailable: true, hint: undefined }),
  },
}).createMachine({
  id: 'supportCase',
  context: ({ input }) => ({
    draft: initialDraft(input),
    history: [],
    editing: false,
    attachmentsAsked: false,
    statusUnavailable: false,
    mode: input.draft.mode ?? input.flowInput.mode,
  }),
  initial: 'route',
  output: () => ({ outcome: 'cancelled' as const }),
  states: {
    /** Picks the next question that is still unanswered. */
    route: {
      always: [
        ...TEXT_FIELDS.map((field) => ({ guard: { type: 'missing' as const, params: { field } }, target: field })),
        { guard: 'attachmentsNotAsked', target: 'attachments' },
        { target: 'summary' },
      ],
    },
    // A field: a valid answer is kept and leads to the next missing one (or back to the summary
    // when correcting it there); anything else is re-asked with the hint for what was wrong.
    ...statesOf(FIELDS, (field) => ({
      on: {
        TEXT: [
          {
            guard: and(['editing', { type: 'fieldAccepted', params: { field } }]),
            target: '#supportCase.summary',
            actions: [{ type: 'storeField' as const, params: { field } }, 'finishEditing' as const],
          },
          {
            guard: { type: 'fieldAccepted' as const, params: { field } },
            target: '#supportCase.route',
            actions: [{ type: 'storeField' as const, params: { field } }, { type: 'push' as const, params: { step: field } }],
          },
          { actions: { type: 'hintField' as const, params: { field } } },
        ],
        // "Keep" (the value shown when correcting it) and, for a field a person may not have, "don't know".
        CHOOSE: onChoose(
          {
            keep: { to: '#supportCase.summary', actions: ['finishEditing'] },
            ...(isUnknowable(field)
              ? {
                  [DONT_KNOW]: {
                    to: [
                      { when: 'editing', to: '#supportCase.summary', actions: ['finishEditing', { type: 'storeUnknown', params: { field } }] },
                      { to: '#supportCase.route', actions: [{ type: 'push', params: { step: field } }, { type: 'storeUnknown', params: { field } }] },
                    ],
                  },
                }
              : {}),
          },
          (b) => b.actions,
        ),
        UNRECOGNISED: { actions: { type: 'hint' as const, params: { key: 'support-case:expectsText' } } },
        ATTACH: { actions: { type: 'hint' as const, params: { key: 'support-case:expectsText' } } },
      },
      exit: 'clearHint' as const,
      meta: { field },
    })),
    attachments: {
      on: {
        ATTACH: [{ guard: 'validFiles', actions: 'addFiles' }, { actions: { type: 'hint', params: { key: 'support-case:attachments.hintInvalid' } } }],
        CHOOSE: [
          { guard: choice('attachments_clear'), actions: 'clearFiles' },
          { guard: choice('attachments_done'), target: 'afterAttachments', actions: 'attachmentsAnswered' },
        ],
        UNRECOGNISED: { actions: { type: 'hint', params: { key: 'support-case:attachments.hint' } } },
        TEXT: { actions: { type: 'hint', params: { key: 'support-case:attachments.hint' } } },
      },
      exit: 'clearHint',
    },
    afterAttachments: {
      always: [{ guard: 'editing', target: 'summary', actions: 'finishEditing' }, { target: 'summary', actions: { type: 'push', params: { step: 'attachments' } } }],
    },
    summary: {
      on: {
        CHOOSE: onChoose(SUMMARY_OPTIONS, (b) => b.actions),
        UNRECOGNISED: { actions: { type: 'hint', params: { key: 'support-case:summary.hint' } } },
        TEXT: { actions: { type: 'hint', params: { key: 'support-case:summary.hint' } } },
        ATTACH: { target: 'attachments', actions: ['startEditing', 'addFiles'] },
      },
      exit: 'clearHint',
    },
    opening: {
      tags: ['busy'],
      on: { BACK: { actions: [] } },
      invoke: {
        src: 'openCase',
        input: ({ context }) => ({ draft: context.draft }),
        onDone: { target: 'opened', actions: 'rememberOpened' },
        onError: { target: 'openFailed' },
      },
    },
    openFailed: {
      on: {
        CHOOSE: [
          { guard: choice('retry'), target: 'opening' },
          { guard: choice('back_to_summary'), target: 'summary' },
        ],
        BACK: 'summary',
      },
    },
    /**
     * The case exists: the reference and, with no backend, the summary to paste, shown once. Any
     * further message looks its delivery up again and gets the short answer (followUp).
     */
    opened: {
      on: {
        BACK: 'checking',
        SUPPORT: 'checking',
        CHOOSE: 'checking',
        UNRECOGNISED: 'checking',
        TEXT: 'checking',
      },
    },
    checking: {
      tags: ['busy'],
      on: { BACK: { actions: [] } },
      invoke: {
        src: 'caseStatus',
        input: ({ context }) => ({ reference: context.opened?.reference ?? '' }),
        onDone: { target: 'followUp', actions: 'rememberStatus' },
        onError: { target: 'followUp', actions: 'statusUnavailable' },
      },
    },
    /** Later messages: the reference, where the case stands and what happens next, in a few lines. */
    followUp: {
      on: {
        BACK: 'checking',
        SUPPORT: 'checking',
        CHOOSE: [{ guard: choice('show_summary'), target: 'opened' }, { target: 'checking' }],
        UNRECOGNISED: 'checking',
        TEXT: 'checking',
      },
    },
    cancelled: { type: 'final' },
  },
  on: {
    BACK: [
      ...toEachStep(QUESTION_STEPS, 'historyTop', () => 'pop' as const),
      { guard: 'historyEmpty', target: '.cancelled' },
    ],
    SUPPORT: { actions: { type: 'hint', params: { key: 'support-case:alreadyHere' } } },
    RESUME: { actions: assign({ returned: true as const }) },
  },
});
