/**
 * The support-case intake as a table: the fields a case needs, in the order they are asked (each
 * typed; keys under `support-case:<field>.`), then the screenshots and the summary the person
 * confirms or corrects. The machine's field states, the step list and the view derive from it.
 */
import { stepsOf } from '../kit';
import { UNKNOWABLE_FIELDS, type IntakeDraft, type UnknowableField } from './contract';
import { readEmail, readOrderNumber, readSubscriptionId, type FieldResult } from './fields';

/** The choice offered at the fields a person may not know (and what "не знаю", "idk" are read as). */
export const DONT_KNOW = 'dont_know';

export interface TextFieldSpec {
  /** Where the answer is kept in the draft. */
  draftKey: 'orderNumber' | 'subscriptionId' | 'currentContactEmail' | 'newContactEmail';
  /** Reads the typed answer: the value to keep, or the hint to re-ask with. */
  read(text: string, draft: IntakeDraft): FieldResult;
  /** Values the prompt (`<field>.prompt`) shows. */
  promptParams?(draft: IntakeDraft): Record<string, string>;
}

export const FIELDS = {
  orderNumber: { draftKey: 'orderNumber', read: (text) => readOrderNumber(text) },
  subscriptionId: { draftKey: 'subscriptionId', read: (text) => readSubscriptionId(text) },
  // The two addresses must differ: the new one is what the case asks support to set.
  currentEmail: { draftKey: 'currentContactEmail', read: (text, draft) => readEmail(text, draft.newContactEmail) },
  newEmail: {
    draftKey: 'newContactEmail',
    read: (text, draft) => readEmail(text, draft.currentContactEmail),
    promptParams: (draft) => ({ current: draft.currentContactEmail ?? '' }),
  },
} satisfies Record<string, TextFieldSpec>;

/** The typed fields, in the order they are asked. */
export const TEXT_FIELDS = stepsOf(FIELDS);
export type TextField = keyof typeof FIELDS;
/** Steps a person can be asked in (BACK returns to one of them). */
export const QUESTION_STEPS = [...TEXT_FIELDS, 'attachments', 'summary'] as const;
export type QuestionStep = (typeof QUESTION_STEPS)[number];

/** The summary's options (labels `summary.<id>`): confirm, or correct one field. */
export const SUMMARY_OPTIONS = {
  confirm: { to: 'opening', actions: 'confirmed' },
  ...(Object.fromEntries(TEXT_FIELDS.map((field) => [`edit_${field}`, { to: field, actions: 'startEditing' }])) as Record<
    `edit_${TextField}`,
    { to: TextField; actions: 'startEditing' }
  >),
  edit_attachments: { to: 'attachments', actions: 'startEditing' },
} as const;

export function readField(field: TextField, text: string, draft: IntakeDraft): FieldResult {
  return (FIELDS[field] as TextFieldSpec).read(text, draft);
}

export function isUnknowable(field: string): field is UnknowableField {
  return (UNKNOWABLE_FIELDS as readonly string[]).includes(field);
}

/** Did the person say they do not know this field? (Snapshots from before this was asked have no list.) */
export function isNotKnown(draft: IntakeDraft, field: string): boolean {
  return isUnknowable(field) && (draft.unknownFields ?? []).includes(field);
}
