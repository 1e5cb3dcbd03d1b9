/**
 * What the person sees at each step of the support-case intake: the fields from the step table,
 * the summary to confirm, then the case's reference and where it stands. Keys of the
 * `support-case` namespace only.
 */
import type { SnapshotFrom } from 'xstate';
import type { Choice, Fact, Line, Link, StepView } from '../flow';
import { keysIn, stepView } from '../kit';
import { SUPPORT_PORTAL_URL } from './contract';
import type { supportCaseMachine, SupportCaseContext } from './machine';
import { DONT_KNOW, FIELDS, isNotKnown, isUnknowable, SUMMARY_OPTIONS, TEXT_FIELDS, type TextField, type TextFieldSpec } from './steps';

const { key, line, option } = keysIn('support-case:');
const portalLink: Link = { labelKey: key('opened.portal'), url: SUPPORT_PORTAL_URL };
const refreshChoice = option('refresh_status', 'opened.refresh');

const valueOf = (c: SupportCaseContext, field: TextField): string | undefined => c.draft[FIELDS[field].draftKey];

function summaryFacts(c: SupportCaseContext): Fact[] {
  const d = c.draft;
  const facts: Fact[] = TEXT_FIELDS.map((f) =>
    isNotKnown(d, f) ? { labelKey: key(`field.${f}`), valueKey: key('value.notKnown') } : { labelKey: key(`field.${f}`), value: valueOf(c, f) ?? '' },
  );
  facts.push({
    labelKey: key('field.attachments'),
    ...(d.attachments.length ? { value: d.attachments.map((a) => a.name).join(', ') } : { valueKey: key('value.none') }),
  });
  if (d.orderLineStatus) facts.push({ labelKey: key('field.orderLineStatus'), valueKey: key(`value.lineStatus.${d.orderLineStatus}`) });
  if (d.canEditInCcw) facts.push({ labelKey: key('field.canEditInCcw'), valueKey: key(`value.${d.canEditInCcw}`) });
  if (d.ponrPassed) facts.push({ labelKey: key('field.ponrPassed'), valueKey: key(`value.${d.ponrPassed}`) });
  // One translated fact per fix: a fact carries a single value key.
  for (const fix of d.fixesTried) facts.push({ labelKey: key('field.fixesTried'), valueKey: key(`value.fix.${fix}`) });
  const who = [d.requester.name, d.requester.email].filter(Boolean).join(', ');
  if (who) facts.push({ labelKey: key('field.requester'), value: who });
  return facts;
}

/**
 * The paragraph that opens the intake. Handed over from the guide, the person hears why a case is
 * needed and what to have at hand; an agent has just read the case notes, so a plain intro does.
 */
function introLine(c: SupportCaseContext): Line {
  return { ...(c.mode === 'agent' ? line('intro') : line(`handoff.${c.draft.reason}`)), opening: true };
}

/** The short answer to a message after the case was opened: reference, where it stands, what next. */
function followUpLines(c: SupportCaseContext, reference: string): Line[] {
  if (c.statusUnavailable || !c.status) return [line('followUp.unavailable', { reference })];
  const { status, externalId, retrying } = c.status;
  if (status === 'delivered' && externalId) return [line('followUp.deliveredWithTicket', { reference, externalId })];
  if (status === 'pending' && retrying) return [line('followUp.retrying', { reference })];
  return [line(`followUp.${status}`, { reference })];
}

type Shown = Pick<StepView, 'lines'> & Partial<StepView>;

function fieldView(field: TextField, c: SupportCaseContext): Shown {
  const lines: Line[] = [];
  if (c.history.length === 0 && !c.hint && !c.returned) lines.push(introLine(c));
  lines.push({ key: key(`${field}.prompt`), params: (FIELDS[field] as TextFieldSpec).promptParams?.(c.draft) });
  const choices: Choice[] = [];
  if (c.editing) {
    const current = valueOf(c, field);
    if (current) lines.push(line('editing', { value: current }));
    choices.push(option('keep', 'keep'));
  }
  if (isUnknowable(field)) choices.push(option(DONT_KNOW, 'dontKnow'));
  return { lines, choices, expects: 'text' };
}

function attachmentsView(c: SupportCaseContext): Shown {
  const lines: Line[] = [];
  if (c.history.length === 0 && !c.hint && !c.editing && !c.returned) lines.push(introLine(c));
  const files = c.draft.attachments;
  lines.push(files.length ? line('attachments.received', { count: files.length, names: files.map((a) => a.name).join(', ') }) : line('attachments.prompt'));
  const choices = [option('attachments_done', files.length ? 'attachments.done' : 'attachments.skip')];
  if (files.length) choices.push(option('attachments_clear', 'attachments.clear'));
  return { lines, choices, expects: 'attachment' };
}

/** Where the case stands: from the last status look-up, else from how it was delivered. */
const deliveryOf = (c: SupportCaseContext) => c.status?.status ?? (c.opened!.delivery === 'manual' ? 'manual' : 'pending');

function openedView(c: SupportCaseContext): Shown {
  const opened = c.opened!;
  const status = deliveryOf(c);
  const lines = [line('opened.reference', { reference: opened.reference })];
  const links: Link[] = [];
  if (status === 'manual') {
    lines.push(line('opened.manual'));
    if (opened.summary) lines.push(line('opened.manualSummary', { summary: opened.summary }));
    links.push(portalLink);
  } else if (c.status?.externalId) {
    lines.push(line('opened.externalId', { externalId: c.status.externalId }));
  } else {
    lines.push(line(`opened.status.${status}`));
  }
  if (c.statusUnavailable) lines.push(line('opened.statusUnavailable'));
  return { lines, choices: status === 'manual' ? [] : [refreshChoice], links, outcome: 'case_opened' };
}

function followUpView(c: SupportCaseContext): Shown {
  const opened = c.opened!;
  const manual = deliveryOf(c) === 'manual';
  return {
    lines: followUpLines(c, opened.reference),
    choices: manual ? (opened.summary ? [option('show_summary', 'followUp.showSummary')] : []) : [refreshChoice],
    links: manual ? [portalLink] : [],
    outcome: 'case_opened',
  };
}

function shown(step: string, c: SupportCaseContext): Shown {
  if (Object.hasOwn(FIELDS, step)) return fieldView(step as TextField, c);
  switch (step) {
    case 'attachments':
      return attachmentsView(c);
    case 'summary':
      return { lines: [line('summary.prompt')], facts: summaryFacts(c), choices: Object.keys(SUMMARY_OPTIONS).map((id) => option(id, `summary.${id}`)) };
    case 'opening':
    case 'checking':
      return { lines: [line(`${step}.text`)] };
    case 'openFailed':
      return { lines: [line('openFailed.text')], choices: [option('retry', 'openFailed.retry'), option('back_to_summary', 'openFailed.backToSummary')] };
    case 'opened':
      return openedView(c);
    case 'followUp':
      return followUpView(c);
    default:
      return { lines: [line('cancelled.text')] };
  }
}

export function supportCaseView(snapshot: SnapshotFrom<typeof supportCaseMachine>): StepView {
  const c = snapshot.context;
  const step = typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value)[0]!;
  const view = shown(step, c);
  // A hint answers the message just handled (dialogs/flow.ts `Line.notice`): never shown twice.
  const lines = c.hint ? [{ key: c.hint, notice: true }, ...view.lines] : view.lines;
  return stepView(step, { ...view, lines, helpKey: key(`help.${step}`) });
}
