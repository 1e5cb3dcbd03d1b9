/**
 * The support-case intake as a FlowDefinition (id `support-case`): the troubleshooting flow hands
 * over to it with `{ flowInput, draft }`; it speaks in keys of the `support-case` namespace.
 */
import type { SnapshotFrom } from 'xstate';
import type { Choice, Fact, FlowDefinition, Line, Link, StepView } from '../flow';
import { SUPPORT_CASE_FLOW_ID, SUPPORT_PORTAL_URL } from './contract';
import { DONT_KNOW, isNotKnown, isUnknowable, supportCaseMachine, TEXT_FIELDS, type SupportCaseContext, type TextField } from './machine';

export * from './contract';
export { readEmail, readOrderNumber, readSubscriptionId, ORDER_DIGITS } from './fields';
export { DONT_KNOW, supportCaseMachine, type SupportCaseContext } from './machine';

const NS = 'support-case:';

const FIELD_VALUE: Record<TextField, (c: SupportCaseContext) => string | undefined> = {
  orderNumber: (c) => c.draft.orderNumber,
  subscriptionId: (c) => c.draft.subscriptionId,
  currentEmail: (c) => c.draft.currentContactEmail,
  newEmail: (c) => c.draft.newContactEmail,
};

function summaryFacts(c: SupportCaseContext): Fact[] {
  const d = c.draft;
  const facts: Fact[] = TEXT_FIELDS.map((f) =>
    isNotKnown(d, f) ? { labelKey: `${NS}field.${f}`, valueKey: `${NS}value.notKnown` } : { labelKey: `${NS}field.${f}`, value: FIELD_VALUE[f](c) ?? '' },
  );
  facts.push({
    labelKey: `${NS}field.attachments`,
    ...(d.attachments.length ? { value: d.attachments.map((a) => a.name).join(', ') } : { valueKey: `${NS}value.none` }),
  });
  if (d.orderLineStatus) facts.push({ labelKey: `${NS}field.orderLineStatus`, valueKey: `${NS}value.lineStatus.${d.orderLineStatus}` });
  if (d.canEditInCcw) facts.push({ labelKey: `${NS}field.canEditInCcw`, valueKey: `${NS}value.${d.canEditInCcw}` });
  if (d.ponrPassed) facts.push({ labelKey: `${NS}field.ponrPassed`, valueKey: `${NS}value.${d.ponrPassed}` });
  // One translated fact per fix: a fact carries a single value key.
  for (const fix of d.fixesTried) facts.push({ labelKey: `${NS}field.fixesTried`, valueKey: `${NS}value.fix.${fix}` });
  const who = [d.requester.name, d.requester.email].filter(Boolean).join(', ');
  if (who) facts.push({ labelKey: `${NS}field.requester`, value: who });
  return facts;
}

/**
 * The paragraph that opens the intake. Handed over from the guide, the person hears why a case is
 * needed and what to have at hand; an agent has just read the case notes, so a plain intro does.
 */
function introLine(c: SupportCaseContext): Line {
  return c.mode === 'agent' ? { key: `${NS}intro` } : { key: `${NS}handoff.${c.draft.reason}` };
}

/** The short answer to a message after the case was opened: reference, where it stands, what next. */
function followUpLines(c: SupportCaseContext, reference: string): Line[] {
  if (c.statusUnavailable || !c.status) return [{ key: `${NS}followUp.unavailable`, params: { reference } }];
  const { status, externalId, retrying } = c.status;
  if (status === 'delivered' && externalId) return [{ key: `${NS}followUp.deliveredWithTicket`, params: { reference, externalId } }];
  if (status === 'pending' && retrying) return [{ key: `${NS}followUp.retrying`, params: { reference } }];
  return [{ key: `${NS}followUp.${status}`, params: { reference } }];
}

function view(snapshot: SnapshotFrom<typeof supportCaseMachine>): StepView {
  const c = snapshot.context;
  const step = typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value)[0]!;
  const lines: Line[] = [];
  const choices: Choice[] = [];
  const links: Link[] = [];
  let facts: Fact[] = [];
  let expects: StepView['expects'] = 'choice';
  let outcome: StepView['outcome'];
  // A hint answers the message just handled (dialogs/flow.ts `Line.notice`): never shown twice.
  if (c.hint) lines.push({ key: c.hint, notice: true });

  if ((TEXT_FIELDS as readonly string[]).includes(step)) {
    const field = step as TextField;
    if (c.history.length === 0 && !c.hint && !c.returned) lines.push({ ...introLine(c), opening: true });
    lines.push({ key: `${NS}${field}.prompt`, params: field === 'newEmail' ? { current: c.draft.currentContactEmail ?? '' } : undefined });
    expects = 'text';
    if (c.editing) {
      const current = FIELD_VALUE[field](c);
      if (current) lines.push({ key: `${NS}editing`, params: { value: current } });
      choices.push({ id: 'keep', labelKey: `${NS}keep` });
    }
    if (isUnknowable(field)) choices.push({ id: DONT_KNOW, labelKey: `${NS}dontKnow` });
  } else if (step === 'attachments') {
    if (c.history.length === 0 && !c.hint && !c.editing && !c.returned) lines.push({ ...introLine(c), opening: true });
    const names = c.draft.attachments.map((a) => a.name).join(', ');
    lines.push(names ? { key: `${NS}attachments.received`, params: { count: c.draft.attachments.length, names } } : { key: `${NS}attachments.prompt` });
    expects = 'attachment';
    choices.push({ id: 'attachments_done', labelKey: c.draft.attachments.length ? `${NS}attachments.done` : `${NS}attachments.skip` });
    if (c.draft.attachments.length) choices.push({ id: 'attachments_clear', labelKey: `${NS}attachments.clear` });
  } else if (step === 'summary') {
    lines.push({ key: `${NS}summary.prompt` });
    facts = summaryFacts(c);
    choices.push({ id: 'confirm', labelKey: `${NS}summary.confirm` });
    for (const f of TEXT_FIELDS) choices.push({ id: `edit_${f}`, labelKey: `${NS}summary.edit_${f}` });
    choices.push({ id: 'edit_attachments', labelKey: `${NS}summary.edit_attachments` });
  } else if (step === 'opening' || step === 'checking') {
    lines.push({ key: `${NS}${step}.text` });
  } else if (step === 'openFailed') {
    lines.push({ key: `${NS}openFailed.text` });
    choices.push({ id: 'retry', labelKey: `${NS}openFailed.retry` }, { id: 'back_to_summary', labelKey: `${NS}openFailed.backToSummary` });
  } else if (step === 'opened') {
    const opened = c.opened!;
    outcome = 'case_opened';
    lines.push({ key: `${NS}opened.reference`, params: { reference: opened.reference } });
    const status = c.status?.status ?? (opened.delivery === 'manual' ? 'manual' : 'pending');
    if (status === 'manual') {
      lines.push({ key: `${NS}opened.manual` });
      if (opened.summary) lines.push({ key: `${NS}opened.manualSummary`, params: { summary: opened.summary } });
      links.push({ labelKey: `${NS}opened.portal`, url: SUPPORT_PORTAL_URL });
    } else if (c.status?.externalId) {
      lines.push({ key: `${NS}opened.externalId`, params: { externalId: c.status.externalId } });
    } else {
      lines.push({ key: `${NS}opened.status.${status}` });
    }
    if (c.statusUnavailable) lines.push({ key: `${NS}opened.statusUnavailable` });
    if (status !== 'manual') choices.push({ id: 'refresh_status', labelKey: `${NS}opened.refresh` });
  } else if (step === 'followUp') {
    const opened = c.opened!;
    outcome = 'case_opened';
    lines.push(...followUpLines(c, opened.reference));
    if ((c.status?.status ?? (opened.delivery === 'manual' ? 'manual' : 'pending')) === 'manual') {
      if (opened.summary) choices.push({ id: 'show_summary', labelKey: `${NS}followUp.showSummary` });
      links.push({ labelKey: `${NS}opened.portal`, url: SUPPORT_PORTAL_URL });
    } else {
      choices.push({ id: 'refresh_status', labelKey: `${NS}opened.refresh` });
    }
  } else {
    lines.push({ key: `${NS}cancelled.text` });
  }
  return { step, lines, choices, links, facts, expects, helpKey: `${NS}help.${step}`, outcome };
}

/**
 * The reference of the case a stored intake is answering about (it was opened there and the
 * conversation is still at it), so "status of PCE-…" is left to the intake's own short answer.
 */
export function caseAnsweredBy(flowId: string, snapshot: unknown): string | undefined {
  if (flowId !== SUPPORT_CASE_FLOW_ID) return undefined;
  const s = snapshot as { value?: unknown; context?: { opened?: { reference?: unknown } } } | null | undefined;
  if (s?.value !== 'opened' && s?.value !== 'followUp') return undefined;
  const reference = s.context?.opened?.reference;
  return typeof reference === 'string' ? reference : undefined;
}

export const supportCaseFlow: FlowDefinition<typeof supportCaseMachine> = {
  id: SUPPORT_CASE_FLOW_ID,
  version: 1,
  machine: supportCaseMachine,
  view,
};
