/**
 * The provisioning-contact troubleshooting flow: the knowledge article's decision tree N1-N9
 * (see shared/kb/provisioning-contact-email.md) as a pure XState v5 machine, plus its view.
 *
 * Every answer is appended to `trail`; everything the flow knows about the order (`answers`) is
 * derived from the trail, so BACK is "drop the last answer and return to its step" and nothing
 * else has to be undone.
 */
import { and, assign, setup } from 'xstate';
import type { Choice, FlowDefinition, FlowEvent, FlowInput, FlowOutput, Line, Link, OutcomeKind, StepView, Fact } from '../flow';
import { BROWSER_FIXES, deriveAnswers, type Answers, type BrowserFix } from './answers';
import { agentQuestionLines, caseNotes, customerFacts, jumpChoices, JUMP_PREFIX, openCaseForCustomerChoice } from './agent-view';
import type { CaseIntakeInput, CaseReason, TrailEntry } from './case-draft';

export const ADMIN_PORTAL_URL = 'https://admin.webex.com';
export const SUPPORT_PORTAL_URL = 'https://www.cisco.com/go/cs';
export const PROVISIONING_SENDER = 'webex_comm@webex.com';
/** Cisco's policy as quoted by the article: days until an unprovisioned order line closes. */
export const CLOSE_AFTER_DAYS = { aFlex: 7, other: 30 } as const;
/** After this many unrecognised answers in a row, the step offers the hand-off to support. */
export const MISSES_BEFORE_SUPPORT_OFFER = 3;

/** Question steps, in the order of the decision tree. Each one answers BACK/SUPPORT/UNRECOGNISED. */
export const QUESTION_STEPS = [
  'entry',
  'spamCheck',
  'orderLineStatus',
  'lineStatusHelp',
  'editAccess',
  'closedOrder',
  'ponrCheck',
  'ponrHelp',
  'editSteps',
  'closedEditSteps',
  'browserFixes',
  'retryEdit',
  'verifyUpdate',
] as const;
export type QuestionStep = (typeof QUESTION_STEPS)[number];

export const FINAL_STEPS = ['emailFound', 'changeConfirmed', 'adminPortal', 'forwardToOwner', 'needsCase'] as const;
export type FinalStep = (typeof FINAL_STEPS)[number];

export const OUTCOME_OF: Record<FinalStep, OutcomeKind> = {
  emailFound: 'resolved',
  changeConfirmed: 'resolved',
  adminPortal: 'redirected_admin',
  forwardToOwner: 'forwarded_to_owner',
  needsCase: 'needs_case',
};

export interface ProvisioningContactContext {
  input: FlowInput;
  mode: 'self' | 'agent';
  /** The question step the person is on (set on entry), for the trail and the re-prompt. */
  step: QuestionStep;
  trail: TrailEntry[];
  answers: Answers;
  /** Unrecognised answers in a row at the current step. */
  misses: number;
  /** A one-turn remark for the view: BACK had nothing to undo. */
  notice?: 'nothingToUndo';
  /**
   * The person went back (BACK, a jump) in this run: the first question is asked again without the
   * greeting. Only start over (a new context) greets again.
   */
  returned?: true;
  caseReason?: CaseReason;
}

const CMD_SUPPORT = 'cmd.support';
const CMD_RESTART = 'cmd.restart';

function initialContext(input: FlowInput): ProvisioningContactContext {
  return { input, mode: input.mode, step: 'entry', trail: [], answers: deriveAnswers([]), misses: 0 };
}

export function caseIntakeFrom(context: ProvisioningContactContext): CaseIntakeInput {
  const { input, answers, trail } = context;
  return {
    flowInput: input,
    draft: {
      requestType: 'Change Provisioning Contact Email',
      locale: input.locale,
      channel: input.channel,
      mode: context.mode,
      requester: { ...input.user },
      // Agent triage: the customer the agent entered; the order number needs no second asking.
      ...(context.mode === 'agent' && input.customer ? { customer: { name: input.customer.name, email: input.customer.email } } : {}),
      ...(input.customer?.orderNumber ? { orderNumber: input.customer.orderNumber } : {}),
      ...(answers.orderLineStatus ? { orderLineStatus: answers.orderLineStatus } : {}),
      ...(answers.canEditInCcw ? { canEditInCcw: answers.canEditInCcw } : {}),
      ...(answers.ponrPassed ? { ponrPassed: answers.ponrPassed } : {}),
      fixesTried: [...answers.fixesTried],
      attachments: [],
      trail: trail.map((e) => ({ ...e })),
      reason: context.caseReason ?? 'requested',
    },
  };
}

/**
 * Every ending keeps the case hand-off on offer: "talk to support" after it (the engine takes the
 * offered hand-off) reaches the intake with everything known instead of a fresh start. An agent
 * first gets the case notes at needsCase and opens the case for the customer from there.
 */
function caseOffer(context: ProvisioningContactContext): Pick<FlowOutput, 'onSupport'> {
  return { onSupport: { flow: 'support-case', input: caseIntakeFrom(context) } };
}

/** The step a jump (the JUMP event or a `jump.<step>` button) asks for. */
function jumpTarget(event: FlowEvent): string | undefined {
  if (event.type === 'JUMP') return event.step;
  if (event.type === 'CHOOSE' && event.choice.startsWith(JUMP_PREFIX)) return event.choice.slice(JUMP_PREFIX.length);
  return undefined;
}

const flowSetup = setup({
  types: {
    context: {} as ProvisioningContactContext,
    events: {} as FlowEvent,
    input: {} as FlowInput,
    output: {} as FlowOutput,
  },
  actions: {
    enterStep: assign((_, params: { step: QuestionStep }) => ({ step: params.step, misses: 0 })),
    clearNotice: assign({ notice: undefined }),
    recordAnswer: assign(({ context, event }) => {
      if (event.type !== 'CHOOSE') return {};
      const trail = [...context.trail, { step: context.step, choice: event.choice }];
      return { trail, answers: deriveAnswers(trail) };
    }),
    undoLastAnswer: assign(({ context }) => {
      const trail = context.trail.slice(0, -1);
      return { trail, answers: deriveAnswers(trail) };
    }),
    noteNothingToUndo: assign({ notice: 'nothingToUndo' as const }),
    noteReturned: assign({ returned: true as const }),
    /** Jump back to an earlier question: its answer and every later one are discarded. */
    jumpTo: assign(({ context }, params: { step: QuestionStep }) => {
      const at = context.trail.findLastIndex((e) => e.step === params.step);
      const trail = at >= 0 ? context.trail.slice(0, at) : context.trail;
      return { trail, answers: deriveAnswers(trail) };
    }),
    countMiss: assign({ misses: ({ context }) => context.misses + 1 }),
    forgetMisses: assign({ misses: 0 }),
    setCaseReason: assign((_, params: { reason: CaseReason }) => ({ caseReason: params.reason })),
    /** The person asked for support: the trail shows where, the reason whether we had understood them. */
    recordSupportRequest: assign(({ context }) => ({
      trail: [...context.trail, { step: context.step, choice: CMD_SUPPORT }],
      caseReason: context.misses >= MISSES_BEFORE_SUPPORT_OFFER ? ('not_understood' as const) : ('requested' as const),
    })),
    restart: assign(({ context }) => initialContext(context.input)),
  },
  guards: {
    chose: ({ event }, params: { choice: string }) => event.type === 'CHOOSE' && event.choice === params.choice,
    lastAnswerWasAt: ({ context }, params: { step: QuestionStep }) => context.trail.at(-1)?.step === params.step,
    jumpsTo: ({ context, event }, params: { step: QuestionStep }) =>
      jumpTarget(event) === params.step && context.trail.some((e) => e.step === params.step),
    orderIsClosed: ({ context }) => context.answers.orderLineStatus === 'closed',
    choseUntriedFix: ({ context, event }) =>
      event.type === 'CHOOSE' &&
      (BROWSER_FIXES as readonly string[]).includes(event.choice) &&
      !context.answers.fixesTried.includes(event.choice as BrowserFix),
    allFixesTried: ({ context }) => BROWSER_FIXES.every((f) => context.answers.fixesTried.includes(f)),
    /** The person changed the contact in this conversation (rather than only coming to check). */
    editedInThisConversation: ({ context }) => context.answers.fixesTried.includes('edit_steps'),
  },
});

type QuestionConfig = Parameters<typeof flowSetup.createStateConfig>[0];
/** One CHOOSE transition of a question state, checked against the guards and actions above. */
type Answer = Exclude<Extract<NonNullable<NonNullable<QuestionConfig['on']>['CHOOSE']>, readonly unknown[]>[number], string | undefined>;

/**
 * A question state of the diagram: entering it makes it the current step (misses start again),
 * leaving it drops the one-turn notice, and its answers are tried in order.
 */
function question(step: QuestionStep, answers: Answer[]) {
  return flowSetup.createStateConfig({
    entry: [{ type: 'enterStep', params: { step } }],
    exit: 'clearNotice',
    on: { CHOOSE: answers },
  });
}

/**
 * Choosing `choice` (and, with `when`, that guard also holding) records the answer and goes to
 * `target`; `caseReason` says why, where the answer ends in a case.
 */
function answer(
  choice: string,
  target: QuestionStep | FinalStep,
  also: { when?: 'orderIsClosed' | 'allFixesTried' | 'editedInThisConversation'; caseReason?: CaseReason } = {},
): Answer {
  const chose = { type: 'chose', params: { choice } } as const;
  return {
    guard: also.when ? and([chose, also.when]) : chose,
    target,
    actions: also.caseReason ? ['recordAnswer', { type: 'setCaseReason', params: { reason: also.caseReason } }] : 'recordAnswer',
  };
}

export const provisioningContactMachine = flowSetup.createMachine({
  id: 'provisioningContact',
  context: ({ input }) => initialContext(input),
  // A top-level final state's output becomes the machine's output only through this (see dialogs/flow.ts).
  output: ({ event }) => event.output as FlowOutput,
  initial: 'entry',
  on: {
    BACK: [
      ...QUESTION_STEPS.map((step) => ({
        guard: { type: 'lastAnswerWasAt' as const, params: { step } },
        target: `.${step}`,
        actions: ['clearNotice' as const, 'undoLastAnswer' as const, 'noteReturned' as const],
      })),
      // Nothing to undo; a miss before it is no longer the last thing said (its re-prompt goes).
      { actions: ['noteNothingToUndo' as const, 'noteReturned' as const, 'forgetMisses' as const] },
    ],
    JUMP: QUESTION_STEPS.map((step) => ({
      guard: { type: 'jumpsTo' as const, params: { step } },
      target: `.${step}`,
      actions: ['clearNotice' as const, { type: 'jumpTo' as const, params: { step } }, 'noteReturned' as const],
    })),
    RESTART: { target: '.entry', actions: 'restart' },
    RESUME: { actions: 'noteReturned' },
    SUPPORT: { target: '.needsCase', actions: 'recordSupportRequest' },
    UNRECOGNISED: { actions: ['clearNotice', 'countMiss'] },
    CHOOSE: [
      // Choices the view adds to any step; the engine usually turns them into commands first.
      ...QUESTION_STEPS.map((step) => ({
        guard: { type: 'jumpsTo' as const, params: { step } },
        target: `.${step}`,
        actions: ['clearNotice' as const, { type: 'jumpTo' as const, params: { step } }, 'noteReturned' as const],
      })),
      { guard: { type: 'chose', params: { choice: CMD_SUPPORT } }, target: '.needsCase', actions: 'recordSupportRequest' },
      { guard: { type: 'chose', params: { choice: CMD_RESTART } }, target: '.entry', actions: 'restart' },
      // A choice the step does not offer (an old button): treated as not understood.
      { actions: ['clearNotice', 'countMiss'] },
    ],
  },
  states: {
    // Entry: what brings the person here.
    entry: question('entry', [
      answer('never_arrived', 'spamCheck'),
      answer('change_contact', 'orderLineStatus'),
      answer('check_change', 'verifyUpdate'),
    ]),
    // N1: spam, junk and filters; allow-list the sender.
    spamCheck: question('spamCheck', [answer('found', 'emailFound'), answer('not_found', 'orderLineStatus')]),
    // N2: the order line's status in CCW.
    orderLineStatus: question('orderLineStatus', [
      answer('awaiting', 'editAccess'),
      answer('closed', 'closedOrder'),
      answer('not_sure', 'lineStatusHelp'),
    ]),
    // N2, not sure: where the status is shown, then the same question again. A status still not
    // found, or one the article does not cover, goes to support as that.
    lineStatusHelp: question('lineStatusHelp', [
      answer('awaiting', 'editAccess'),
      answer('closed', 'closedOrder'),
      answer('cant_find', 'needsCase', { caseReason: 'status_unknown' }),
    ]),
    // N3 (scenario 1): can the person edit the order in CCW?
    editAccess: question('editAccess', [answer('can_edit', 'ponrCheck'), answer('cannot_edit', 'forwardToOwner')]),
    // N7 (scenario 2): why the line closed, where closed orders are edited, and edit access.
    closedOrder: question('closedOrder', [answer('can_edit', 'ponrCheck'), answer('cannot_edit', 'forwardToOwner')]),
    // N4 (both scenarios): has the organization been onboarded to Control Hub (point of no return)?
    ponrCheck: question('ponrCheck', [
      answer('onboarded', 'adminPortal'),
      answer('not_onboarded', 'closedEditSteps', { when: 'orderIsClosed' }),
      answer('not_onboarded', 'editSteps'),
      answer('not_sure', 'ponrHelp'),
    ]),
    // N4, not sure: how to tell; "still not sure" tries the edit (CCW refuses it after the PONR).
    ponrHelp: question('ponrHelp', [
      answer('onboarded', 'adminPortal'),
      answer('not_onboarded', 'closedEditSteps', { when: 'orderIsClosed' }),
      answer('not_onboarded', 'editSteps'),
      answer('still_not_sure', 'closedEditSteps', { when: 'orderIsClosed' }),
      answer('still_not_sure', 'editSteps'),
    ]),
    // N5: Edit, Save (optionally Apply to all lines), Done.
    editSteps: question('editSteps', [answer('worked', 'verifyUpdate'), answer('failed', 'browserFixes')]),
    // N7, before the PONR: edit or resend on the Cloud/SaaS Subscription page; 2(a) the pop-up.
    closedEditSteps: question('closedEditSteps', [
      answer('worked', 'verifyUpdate'),
      answer('popup_admin', 'adminPortal'),
      answer('failed', 'browserFixes'),
    ]),
    // N8: browser fixes; each one tried is remembered and not offered again.
    browserFixes: question('browserFixes', [
      { guard: 'choseUntriedFix', target: 'retryEdit', actions: 'recordAnswer' },
      answer('none_helped', 'needsCase', { caseReason: 'fixes_failed' }),
    ]),
    // N8: did the edit work after that fix? Still failing after all three -> N9.
    retryEdit: question('retryEdit', [
      answer('worked', 'verifyUpdate'),
      answer('failed', 'needsCase', { when: 'allFixesTried', caseReason: 'fixes_failed' }),
      answer('failed', 'browserFixes'),
    ]),
    // N6: verify in Transaction Manager.
    verifyUpdate: question('verifyUpdate', [
      answer('updated', 'changeConfirmed'),
      answer('not_updated', 'needsCase', { when: 'editedInThisConversation', caseReason: 'verification_failed' }),
      // Came only to check and the change is not there: make the change now.
      answer('not_updated', 'orderLineStatus'),
    ]),

    emailFound: { type: 'final', output: ({ context }) => ({ outcome: 'resolved', resolution: 'email_found', ...caseOffer(context) }) },
    changeConfirmed: { type: 'final', output: ({ context }) => ({ outcome: 'resolved', resolution: 'change_verified', ...caseOffer(context) }) },
    adminPortal: {
      type: 'final',
      output: ({ context }) => ({
        outcome: 'redirected_admin',
        via: context.answers.popupSeen ? 'registration_popup' : 'ponr_passed',
        ...caseOffer(context),
      }),
    },
    forwardToOwner: {
      type: 'final',
      output: ({ context }) => ({ outcome: 'forwarded_to_owner', orderLineStatus: context.answers.orderLineStatus ?? 'unknown', ...caseOffer(context) }),
    },
    // N9: hand the conversation to the support-case intake with everything known so far.
    needsCase: {
      type: 'final',
      // An agent first gets the case notes, then opens the case for the customer (caseOffer).
      output: ({ context }) =>
        context.mode === 'agent'
          ? { outcome: 'needs_case', ...caseOffer(context) }
          : { outcome: 'needs_case', next: { flow: 'support-case', input: caseIntakeFrom(context) } },
    },
  },
});

// ---------------------------------------------------------------------------------------------
// The view: pure, keys and choice ids only.

const NS = 'provisioning-contact:';
const k = (key: string): string => `${NS}${key}`;
const line = (key: string, params?: Line['params']): Line => (params ? { key: k(key), params } : { key: k(key) });
const choice = (step: string, id: string): Choice => ({ id, labelKey: k(`${step}.choices.${id}`) });
const restartChoice: Choice = { id: CMD_RESTART, labelKey: k('common.choices.restart') };
const supportChoice: Choice = { id: CMD_SUPPORT, labelKey: k('common.choices.support') };
const adminLink: Link = { labelKey: k('links.adminPortal'), url: ADMIN_PORTAL_URL };
const supportLink: Link = { labelKey: k('links.supportPortal'), url: SUPPORT_PORTAL_URL };

interface StepContent {
  lines: Line[];
  choices: Choice[];
  links?: Link[];
  facts?: Fact[];
}

function questionContent(step: QuestionStep, c: ProvisioningContactContext): StepContent {
  const a = c.answers;
  const closed = a.orderLineStatus === 'closed';
  switch (step) {
    case 'entry':
      return {
        // Greeted once per run: coming back to the first question asks it again, like any other.
        lines: [...(c.returned ? [] : [{ ...line('entry.greeting'), opening: true }]), line('entry.prompt')],
        choices: ['never_arrived', 'change_contact', 'check_change'].map((id) => choice(step, id)),
      };
    case 'spamCheck':
      return {
        lines: [line('spamCheck.folders'), line('spamCheck.allowList', { sender: PROVISIONING_SENDER }), line('spamCheck.prompt')],
        choices: ['found', 'not_found'].map((id) => choice(step, id)),
      };
    case 'orderLineStatus':
      return {
        lines: [
          ...(a.fixesTried.includes('spam_check') ? [line('orderLineStatus.afterSpamCheck')] : []),
          ...(c.trail.at(-1)?.step === 'verifyUpdate' ? [line('orderLineStatus.afterVerification')] : []),
          line('orderLineStatus.prompt'),
        ],
        choices: ['awaiting', 'closed', 'not_sure'].map((id) => choice(step, id)),
      };
    case 'lineStatusHelp':
      return {
        lines: [line('lineStatusHelp.where'), line('lineStatusHelp.statuses'), line('lineStatusHelp.prompt')],
        choices: ['awaiting', 'closed', 'cant_find'].map((id) => choice(step, id)),
      };
    case 'editAccess':
      return {
        lines: [line('editAccess.context'), line('editAccess.prompt')],
        choices: ['can_edit', 'cannot_edit'].map((id) => choice(step, id)),
      };
    case 'closedOrder':
      return {
        lines: [
          line('closedOrder.whyClosed', { aFlexDays: CLOSE_AFTER_DAYS.aFlex, otherDays: CLOSE_AFTER_DAYS.other }),
          line('closedOrder.where'),
          line('closedOrder.prompt'),
        ],
        choices: ['can_edit', 'cannot_edit'].map((id) => choice(step, id)),
      };
    case 'ponrCheck':
      return {
        lines: [line('ponrCheck.explain'), line('ponrCheck.prompt')],
        choices: ['onboarded', 'not_onboarded', 'not_sure'].map((id) => choice(step, id)),
      };
    case 'ponrHelp':
      return {
        lines: [line('ponrHelp.signs'), line('ponrHelp.customer', { url: ADMIN_PORTAL_URL }), line('ponrHelp.prompt')],
        choices: ['onboarded', 'not_onboarded', 'still_not_sure'].map((id) => choice(step, id)),
        links: [adminLink],
      };
    case 'editSteps':
      return {
        lines: [
          line('editSteps.intro'),
          line('editSteps.steps'),
          ...(a.ponrPassed === 'unknown' ? [line('editSteps.ifLocked', { url: ADMIN_PORTAL_URL })] : []),
          line('editSteps.prompt'),
        ],
        choices: ['worked', 'failed'].map((id) => choice(step, id)),
      };
    case 'closedEditSteps':
      return {
        lines: [line('closedEditSteps.intro'), line('closedEditSteps.steps'), line('closedEditSteps.popup', { url: ADMIN_PORTAL_URL }), line('closedEditSteps.prompt')],
        choices: ['worked', 'popup_admin', 'failed'].map((id) => choice(step, id)),
      };
    case 'browserFixes': {
      const untried = BROWSER_FIXES.filter((f) => !a.fixesTried.includes(f));
      const tried = BROWSER_FIXES.length - untried.length;
      return {
        lines: [
          tried === 0 ? line('browserFixes.intro') : line('browserFixes.triedSoFar', { count: tried }),
          line('browserFixes.prompt'),
        ],
        choices: [...untried.map((id) => choice(step, id)), choice(step, 'none_helped')],
      };
    }
    case 'retryEdit':
      return {
        lines: [
          line(`retryEdit.after.${a.lastFix ?? 'cache_cookies'}`),
          line(closed ? 'retryEdit.retryClosed' : 'retryEdit.retryAwaiting'),
          line('retryEdit.prompt'),
        ],
        choices: ['worked', 'failed'].map((id) => choice(step, id)),
      };
    case 'verifyUpdate':
      return {
        lines: [
          line(a.fixesTried.includes('edit_steps') ? 'verifyUpdate.afterEdit' : 'verifyUpdate.intro'),
          line('verifyUpdate.steps'),
          line('verifyUpdate.partners'),
          line('verifyUpdate.prompt'),
        ],
        choices: ['updated', 'not_updated'].map((id) => choice(step, id)),
      };
  }
}

function caseFacts(c: ProvisioningContactContext): Fact[] {
  const a = c.answers;
  const facts: Fact[] = [];
  if (a.orderLineStatus) facts.push({ labelKey: k('facts.orderLineStatus'), valueKey: k(`facts.status.${a.orderLineStatus}`) });
  if (a.canEditInCcw) facts.push({ labelKey: k('facts.canEditInCcw'), valueKey: k(`facts.yesNoUnknown.${a.canEditInCcw}`) });
  if (a.ponrPassed) facts.push({ labelKey: k('facts.ponrPassed'), valueKey: k(`facts.yesNoUnknown.${a.ponrPassed}`) });
  const fixes = a.fixesTried.filter((f): f is BrowserFix => (BROWSER_FIXES as readonly string[]).includes(f));
  if (fixes.length) facts.push({ labelKey: k('facts.fixesTried'), value: String(fixes.length) });
  return facts;
}

function finalContent(step: FinalStep, c: ProvisioningContactContext): StepContent {
  const a = c.answers;
  switch (step) {
    case 'emailFound':
      return { lines: [line('emailFound.text'), line('emailFound.allowListReminder', { sender: PROVISIONING_SENDER })], choices: [restartChoice] };
    case 'changeConfirmed':
      return { lines: [line('changeConfirmed.text'), line('changeConfirmed.next')], choices: [restartChoice] };
    case 'adminPortal':
      return {
        lines: [line(a.popupSeen ? 'adminPortal.popup' : 'adminPortal.ponrPassed', { url: ADMIN_PORTAL_URL })],
        choices: [restartChoice, supportChoice],
        links: [adminLink],
      };
    case 'forwardToOwner':
      return {
        lines: [
          line('forwardToOwner.intro'),
          line(a.orderLineStatus === 'closed' ? 'forwardToOwner.messageClosed' : 'forwardToOwner.messageAwaiting'),
          line('forwardToOwner.after'),
        ],
        choices: [restartChoice, supportChoice],
      };
    case 'needsCase':
      return {
        lines: [
          line(`needsCase.reason.${c.caseReason ?? 'requested'}`),
          line('needsCase.whatNext'),
          line('needsCase.manual', { url: SUPPORT_PORTAL_URL }),
        ],
        choices: [restartChoice],
        links: [supportLink],
        facts: caseFacts(c),
      };
  }
}

function isQuestionStep(step: string): step is QuestionStep {
  return (QUESTION_STEPS as readonly string[]).includes(step);
}

export function viewOf(snapshot: { value: unknown; context: ProvisioningContactContext; status: string }): StepView {
  const step = String(snapshot.value);
  const c = snapshot.context;
  if (isQuestionStep(step)) {
    const content = questionContent(step, c);
    const prefix: Line[] = [];
    if (c.notice === 'nothingToUndo') prefix.push({ ...line('common.nothingToUndo'), notice: true });
    const choices = [...content.choices];
    if (c.misses > 0) {
      if (c.misses >= MISSES_BEFORE_SUPPORT_OFFER) choices.push(supportChoice);
      prefix.push({
        ...line(c.misses >= MISSES_BEFORE_SUPPORT_OFFER ? 'common.repromptOfferSupport' : 'common.reprompt', { count: choices.length }),
        listChoices: true,
        notice: true,
      });
    }
    const agent = c.mode === 'agent';
    return {
      step,
      lines: [...prefix, ...(agent ? agentQuestionLines(step, { sender: PROVISIONING_SENDER }) : content.lines)],
      choices: agent ? [...choices, ...jumpChoices(c)] : choices,
      links: content.links ?? [],
      facts: agent ? [...customerFacts(c), ...(content.facts ?? [])] : (content.facts ?? []),
      expects: 'choice',
      helpKey: k(`${step}.help`),
    };
  }
  if ((FINAL_STEPS as readonly string[]).includes(step)) {
    const finalStep = step as FinalStep;
    const content = finalContent(finalStep, c);
    const agent = c.mode === 'agent';
    const facts = agent ? [...customerFacts(c), ...caseFacts(c)] : (content.facts ?? []);
    return {
      step,
      lines: agent ? [...content.lines, ...caseNotes(c, caseFacts(c), finalStep)] : content.lines,
      choices: agent ? [openCaseForCustomerChoice, restartChoice] : content.choices,
      links: content.links ?? [],
      facts,
      expects: 'choice',
      helpKey: k(`${step}.help`),
      outcome: OUTCOME_OF[finalStep],
    };
  }
  // The engine calls view() on restored snapshots to prove their state still exists.
  throw new Error(`provisioning-contact: unknown step "${step}"`);
}

export const provisioningContactFlow: FlowDefinition<typeof provisioningContactMachine> = {
  id: 'provisioning-contact',
  version: 2,
  machine: provisioningContactMachine,
  view: (snapshot) => viewOf(snapshot),
};
