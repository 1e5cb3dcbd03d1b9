/**
 * The support-case intake: asks for what a case needs (skipping what the troubleshooting flow already
 * knows), shows a summary the person confirms or corrects field by field, then asks the runtime's
 * `openCase` actor to store the case. Pure: no clock, no I/O, no formatting.
 */
import { and, assign, fromPromise, setup } from 'xstate';
import type { FlowEvent, FlowInput } from '../flow';
import { attachmentRef } from '../provisioning-contact/case-draft';
import {
  REQUEST_TYPE,
  UNKNOWABLE_FIELDS,
  type IntakeDraft,
  type UnknowableField,
  type CaseStatusInput,
  type CaseStatusOutput,
  type OpenCaseInput,
  type OpenCaseOutput,
  type SupportCaseInput,
} from './contract';
import { readEmail, readOrderNumber, readSubscriptionId, type FieldResult } from './fields';

/** The typed fields, in the order they are asked. */
export const TEXT_FIELDS = ['orderNumber', 'subscriptionId', 'currentEmail', 'newEmail'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];
/** The choice offered at the fields a person may not know (and what "не знаю", "idk" are read as). */
export const DONT_KNOW = 'dont_know';
/** Steps a person can be asked in (BACK returns to one of them). */
export const QUESTION_STEPS = [...TEXT_FIELDS, 'attachments', 'summary'] as const;
export type QuestionStep = (typeof QUESTION_STEPS)[number];

const DRAFT_KEY: Record<TextField, 'orderNumber' | 'subscriptionId' | 'currentContactEmail' | 'newContactEmail'> = {
  orderNumber: 'orderNumber',
  subscriptionId: 'subscriptionId',
  currentEmail: 'currentContactEmail',
  newEmail: 'newContactEmail',
};

export function isUnknowable(field: string): field is UnknowableField {
  return (UNKNOWABLE_FIELDS as readonly string[]).includes(field);
}

/** Did the person say they do not know this field? (Snapshots from before this was asked have no list.) */
export function isNotKnown(draft: IntakeDraft, field: string): boolean {
  return isUnknowable(field) && (draft.unknownFields ?? []).includes(field);
}

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

export function readField(field: TextField, text: string, draft: IntakeDraft): FieldResult {
  switch (field) {
    case 'orderNumber':
      return readOrderNumber(text);
    case 'subscriptionId':
      return readSubscriptionId(text);
    case 'currentEmail':
      return readEmail(text, draft.newContactEmail);
    case 'newEmail':
      return readEmail(text, draft.currentContactEmail);
  }
}

function textOf(event: FlowEvent): string {
  return event.type === 'TEXT' || event.type === 'UNRECOGNISED' ? event.text : '';
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
    chose: ({ event }, p: { choice: string }) => event.type === 'CHOOSE' && event.choice === p.choice,
    missing: ({ context }, p: FieldParams) => !context.draft[DRAFT_KEY[p.field]] && !isNotKnown(context.draft, p.field),
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
          [DRAFT_KEY[p.field]]: result.value,
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
          [DRAFT_KEY[field]]: undefined,
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
    ...Object.fromEntries(
      TEXT_FIELDS.map((field) => [
        field,
        {
          on: {
            TEXT: [
              {
                guard: and(['editing', { type: 'fieldAccepted', params: { field } }]),
                target: '#supportCase.summary',
                actions: [{ type: 'storeField', params: { field } }, 'finishEditing'],
              },
              {
                guard: { type: 'fieldAccepted', params: { field } },
                target: '#supportCase.route',
                actions: [{ type: 'storeField', params: { field } }, { type: 'push', params: { step: field } }],
              },
              { actions: { type: 'hintField', params: { field } } },
            ],
            CHOOSE: [
              { guard: { type: 'chose', params: { choice: 'keep' } }, target: '#supportCase.summary', actions: 'finishEditing' },
              ...(isUnknowable(field)
                ? [
                    {
                      guard: and(['editing', { type: 'chose', params: { choice: DONT_KNOW } }]),
                      target: '#supportCase.summary',
                      actions: ['finishEditing' as const, { type: 'storeUnknown' as const, params: { field } }],
                    },
                    {
                      guard: { type: 'chose' as const, params: { choice: DONT_KNOW } },
                      target: '#supportCase.route',
                      actions: [{ type: 'push' as const, params: { step: field } }, { type: 'storeUnknown' as const, params: { field } }],
                    },
                  ]
                : []),
            ],
            UNRECOGNISED: { actions: { type: 'hint', params: { key: 'support-case:expectsText' } } },
            ATTACH: { actions: { type: 'hint', params: { key: 'support-case:expectsText' } } },
          },
          exit: assign({ hint: undefined }),
          meta: { field },
        },
      ]),
    ),
    attachments: {
      on: {
        ATTACH: [{ guard: 'validFiles', actions: 'addFiles' }, { actions: { type: 'hint', params: { key: 'support-case:attachments.hintInvalid' } } }],
        CHOOSE: [
          { guard: { type: 'chose', params: { choice: 'attachments_clear' } }, actions: 'clearFiles' },
          { guard: { type: 'chose', params: { choice: 'attachments_done' } }, target: 'afterAttachments', actions: 'attachmentsAnswered' },
        ],
        UNRECOGNISED: { actions: { type: 'hint', params: { key: 'support-case:attachments.hint' } } },
        TEXT: { actions: { type: 'hint', params: { key: 'support-case:attachments.hint' } } },
      },
      exit: assign({ hint: undefined }),
    },
    afterAttachments: {
      always: [{ guard: 'editing', target: 'summary', actions: 'finishEditing' }, { target: 'summary', actions: { type: 'push', params: { step: 'attachments' } } }],
    },
    summary: {
      on: {
        CHOOSE: [
          { guard: { type: 'chose', params: { choice: 'confirm' } }, target: 'opening', actions: 'confirmed' },
          ...TEXT_FIELDS.map((field) => ({
            guard: { type: 'chose' as const, params: { choice: `edit_${field}` } },
            target: field,
            actions: 'startEditing' as const,
          })),
          { guard: { type: 'chose', params: { choice: 'edit_attachments' } }, target: 'attachments', actions: 'startEditing' },
        ],
        UNRECOGNISED: { actions: { type: 'hint', params: { key: 'support-case:summary.hint' } } },
        TEXT: { actions: { type: 'hint', params: { key: 'support-case:summary.hint' } } },
        ATTACH: { target: 'attachments', actions: ['startEditing', 'addFiles'] },
      },
      exit: assign({ hint: undefined }),
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
          { guard: { type: 'chose', params: { choice: 'retry' } }, target: 'opening' },
          { guard: { type: 'chose', params: { choice: 'back_to_summary' } }, target: 'summary' },
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
        CHOOSE: [{ guard: { type: 'chose', params: { choice: 'show_summary' } }, target: 'opened' }, { target: 'checking' }],
        UNRECOGNISED: 'checking',
        TEXT: 'checking',
      },
    },
    cancelled: { type: 'final' },
  },
  on: {
    BACK: [
      ...QUESTION_STEPS.map((step) => ({
        guard: { type: 'historyTop' as const, params: { step } },
        target: `.${step}`,
        actions: 'pop' as const,
      })),
      { guard: 'historyEmpty', target: '.cancelled' },
    ],
    SUPPORT: { actions: { type: 'hint', params: { key: 'support-case:alreadyHere' } } },
    RESUME: { actions: assign({ returned: true as const }) },
  },
});
