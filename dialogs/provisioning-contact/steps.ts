/**
 * The provisioning-contact flow as a table: the knowledge article's decision tree N1-N9 (see
 * shared/kb/provisioning-contact-email.md), one entry per step in the order the tree asks them.
 * The machine's states, the step lists and the view are derived from it (machine.ts, view.ts).
 *
 * A question says its paragraphs (keys under `provisioning-contact:<step>.`), offers its options
 * (labels `<step>.choices.<id>`, help `<step>.help`) and, per option, where it leads and what it
 * records about the order. An ending says its outcome, what it outputs and what it shows.
 */
import type { Fact, FlowOutput, Line, Link, OutcomeKind } from '../flow';
import type { CaseReason } from '../support-case/case-draft';
import { offerFollowup } from '../followup/offers';
import { BROWSER_FIXES, caseFacts, type Records } from './answers';
import { caseHandOff, caseOffer, personOffer, type ProvisioningContactContext as Context } from './context';

export const ADMIN_PORTAL_URL = 'https://admin.webex.com';
export const SUPPORT_PORTAL_URL = 'https://www.cisco.com/go/cs';
export const PROVISIONING_SENDER = 'webex_comm@webex.com';
/** Cisco's policy as quoted by the article: days until an unprovisioned order line closes. */
export const CLOSE_AFTER_DAYS = { aFlex: 7, other: 30 } as const;
/** After this many unrecognised answers in a row, the step offers the hand-off to support. */
export const MISSES_BEFORE_SUPPORT_OFFER = 3;
/** Options any step may show; the engine usually turns them into commands first. */
export const CMD_SUPPORT = 'cmd.support';
export const CMD_RESTART = 'cmd.restart';

const adminLink: Link = { labelKey: 'provisioning-contact:links.adminPortal', url: ADMIN_PORTAL_URL };
const supportLink: Link = { labelKey: 'provisioning-contact:links.supportPortal', url: SUPPORT_PORTAL_URL };

/** A paragraph of a step: a key under `provisioning-contact:<step>.`, or a line with such a key. */
export type Say = string | Line;

/** Guards (declared in machine.ts) an answer's route may also depend on. */
export type Condition = 'orderIsClosed' | 'allFixesTried' | 'editedInThisConversation' | 'choseUntriedFix';

/** Where an answer leads (when `when` also holds) and, if that is a case, why. */
interface Route<Step extends string> {
  to: Step;
  when?: Condition;
  caseReason?: CaseReason;
}
/** An option: where it leads (or the first of several routes that holds) and what it records about the order. */
type Answer<Step extends string> = (Omit<Route<Step>, 'when'> | { to: readonly Route<Step>[] }) & { records?: Records };

export interface Question<Step extends string = string> {
  say(c: Context): Say[];
  /** The options, in the order they are shown (labels `<step>.choices.<id>`), tried in that order. */
  options: Record<string, Answer<Step>>;
  /** The options shown, when not all of them always are. */
  offers?(c: Context): string[];
  links?: Link[];
}

export interface Ending {
  outcome: OutcomeKind;
  output(c: Context): Omit<FlowOutput, 'outcome'>;
  say(c: Context): Say[];
  /** "Talk to support" is offered beside "start over". */
  offersSupport?: true;
  links?: Link[];
  facts?(c: Context): Fact[];
}

const onlyIf = (condition: boolean, ...say: Say[]): Say[] => (condition ? say : []);
const closed = (c: Context) => c.answers.orderLineStatus === 'closed';
/** N9 because the person asked for support (a command, or the interceptor outside opening hours): a case, not a second question. */
const askedForCase = (c: Context) => c.trail.at(-1)?.choice === CMD_SUPPORT;

/**
 * Where the flow ends. An agent first gets the case notes, then opens the case for the customer (caseOffer).
 * The endings that promise an email offer a follow-up (offerFollowup: "check back with me tomorrow").
 */
export const ENDINGS = {
  emailFound: {
    outcome: 'resolved',
    output: (c) => ({ resolution: 'email_found', ...caseOffer(c) }),
    say: () => ['text', { key: 'allowListReminder', params: { sender: PROVISIONING_SENDER } }],
  },
  changeConfirmed: {
    outcome: 'resolved',
    output: (c) => ({ resolution: 'change_verified', ...caseOffer(c), ...offerFollowup('changeConfirmed', c) }),
    say: () => ['text', 'next'],
  },
  adminPortal: {
    outcome: 'redirected_admin',
    output: (c) => ({ via: c.answers.popupSeen ? 'registration_popup' : 'ponr_passed', ...caseOffer(c), ...offerFollowup('adminPortal', c) }),
    say: (c) => [{ key: c.answers.popupSeen ? 'popup' : 'ponrPassed', params: { url: ADMIN_PORTAL_URL } }],
    offersSupport: true,
    links: [adminLink],
  },
  forwardToOwner: {
    outcome: 'forwarded_to_owner',
    output: (c) => ({ orderLineStatus: c.answers.orderLineStatus ?? 'unknown', ...caseOffer(c), ...offerFollowup('forwardToOwner', c) }),
    say: (c) => ['intro', closed(c) ? 'messageClosed' : 'messageAwaiting', 'after'],
    offersSupport: true,
  },
  // N9: hand the conversation to the support-case intake with everything known so far (or, with
  // hand-offs configured and reached by the tree, to the offer of a person beside a case).
  needsCase: {
    outcome: 'needs_case',
    output: (c) => (c.mode === 'agent' ? caseOffer(c) : c.personOffered && !askedForCase(c) ? personOffer(c) : caseHandOff(c)),
    say: (c) => [`reason.${c.caseReason ?? 'requested'}`, 'whatNext', { key: 'manual', params: { url: SUPPORT_PORTAL_URL } }],
    links: [supportLink],
    facts: (c) => caseFacts(c.answers),
  },
} satisfies Record<string, Ending>;
export type FinalStep = keyof typeof ENDINGS;

/** The questions, checked to lead only to steps of the table. */
function questions<const T extends Record<string, Question>>(table: T & Record<string, Question<Extract<keyof T, string> | FinalStep>>): T {
  return table;
}

export const QUESTIONS = questions({
  // Entry: what brings the person here. Greeted once per run: coming back asks it like any other.
  entry: {
    say: (c) => [...onlyIf(!c.returned, { key: 'greeting', opening: true }), 'prompt'],
    options: { never_arrived: { to: 'spamCheck' }, change_contact: { to: 'orderLineStatus' }, check_change: { to: 'verifyUpdate' } },
  },
  // N1: spam, junk and filters; allow-list the sender.
  spamCheck: {
    say: () => ['folders', { key: 'allowList', params: { sender: PROVISIONING_SENDER } }, 'prompt'],
    options: {
      found: { to: 'emailFound', records: { tried: 'spam_check' } },
      not_found: { to: 'orderLineStatus', records: { tried: 'spam_check' } },
    },
  },
  // N2: the order line's status in CCW.
  orderLineStatus: {
    say: (c) => [
      ...onlyIf(c.answers.fixesTried.includes('spam_check'), 'afterSpamCheck'),
      ...onlyIf(c.trail.at(-1)?.step === 'verifyUpdate', 'afterVerification'),
      'prompt',
    ],
    options: {
      awaiting: { to: 'editAccess', records: { orderLineStatus: 'awaiting' } },
      closed: { to: 'closedOrder', records: { orderLineStatus: 'closed' } },
      not_sure: { to: 'lineStatusHelp', records: { orderLineStatus: 'unknown' } },
    },
  },
  // N2, not sure: where the status is shown, then the same question again. A status still not
  // found, or one the article does not cover, goes to support as that.
  lineStatusHelp: {
    say: () => ['where', 'statuses', 'prompt'],
    options: {
      awaiting: { to: 'editAccess', records: { orderLineStatus: 'awaiting' } },
      closed: { to: 'closedOrder', records: { orderLineStatus: 'closed' } },
      cant_find: { to: 'needsCase', caseReason: 'status_unknown', records: { orderLineStatus: 'unknown' } },
    },
  },
  // N3 (scenario 1): can the person edit the order in CCW?
  editAccess: {
    say: () => ['context', 'prompt'],
    options: {
      can_edit: { to: 'ponrCheck', records: { canEditInCcw: 'yes' } },
      cannot_edit: { to: 'forwardToOwner', records: { canEditInCcw: 'no' } },
    },
  },
  // N7 (scenario 2): why the line closed, where closed orders are edited, and edit access.
  closedOrder: {
    say: () => [{ key: 'whyClosed', params: { aFlexDays: CLOSE_AFTER_DAYS.aFlex, otherDays: CLOSE_AFTER_DAYS.other } }, 'where', 'prompt'],
    options: {
      can_edit: { to: 'ponrCheck', records: { canEditInCcw: 'yes' } },
      cannot_edit: { to: 'forwardToOwner', records: { canEditInCcw: 'no' } },
    },
  },
  // N4 (both scenarios): has the organization been onboarded to Control Hub (point of no return)?
  ponrCheck: {
    say: () => ['explain', 'prompt'],
    options: {
      onboarded: { to: 'adminPortal', records: { ponrPassed: 'yes' } },
      not_onboarded: { to: [{ when: 'orderIsClosed', to: 'closedEditSteps' }, { to: 'editSteps' }], records: { ponrPassed: 'no' } },
      not_sure: { to: 'ponrHelp', records: { ponrPassed: 'unknown' } },
    },
  },
  // N4, not sure: how to tell; "still not sure" tries the edit (CCW refuses it after the PONR).
  ponrHelp: {
    say: () => ['signs', { key: 'customer', params: { url: ADMIN_PORTAL_URL } }, 'prompt'],
    options: {
      onboarded: { to: 'adminPortal', records: { ponrPassed: 'yes' } },
      not_onboarded: { to: [{ when: 'orderIsClosed', to: 'closedEditSteps' }, { to: 'editSteps' }], records: { ponrPassed: 'no' } },
      still_not_sure: { to: [{ when: 'orderIsClosed', to: 'closedEditSteps' }, { to: 'editSteps' }], records: { ponrPassed: 'unknown' } },
    },
    links: [adminLink],
  },
  // N5: Edit, Save (optionally Apply to all lines), Done.
  editSteps: {
    say: (c) => ['intro', 'steps', ...onlyIf(c.answers.ponrPassed === 'unknown', { key: 'ifLocked', params: { url: ADMIN_PORTAL_URL } }), 'prompt'],
    options: {
      worked: { to: 'verifyUpdate', records: { tried: 'edit_steps' } },
      failed: { to: 'browserFixes', records: { tried: 'edit_steps' } },
    },
  },
  // N7, before the PONR: edit or resend on the Cloud/SaaS Subscription page; 2(a) the pop-up.
  closedEditSteps: {
    say: () => ['intro', 'steps', { key: 'popup', params: { url: ADMIN_PORTAL_URL } }, 'prompt'],
    options: {
      worked: { to: 'verifyUpdate', records: { tried: 'edit_steps' } },
      popup_admin: { to: 'adminPortal', records: { tried: 'edit_steps', popupSeen: true } },
      failed: { to: 'browserFixes', records: { tried: 'edit_steps' } },
    },
  },
  // N8: browser fixes; each one tried is remembered and not offered (nor accepted) again.
  browserFixes: {
    say: (c) => {
      const tried = BROWSER_FIXES.filter((f) => c.answers.fixesTried.includes(f)).length;
      return [tried === 0 ? 'intro' : { key: 'triedSoFar', params: { count: tried } }, 'prompt'];
    },
    options: {
      cache_cookies: { to: [{ when: 'choseUntriedFix', to: 'retryEdit' }], records: { fix: 'cache_cookies' } },
      other_browser: { to: [{ when: 'choseUntriedFix', to: 'retryEdit' }], records: { fix: 'other_browser' } },
      incognito: { to: [{ when: 'choseUntriedFix', to: 'retryEdit' }], records: { fix: 'incognito' } },
      none_helped: { to: 'needsCase', caseReason: 'fixes_failed' },
    },
    offers: (c) => [...BROWSER_FIXES.filter((f) => !c.answers.fixesTried.includes(f)), 'none_helped'],
  },
  // N8: did the edit work after that fix? Still failing after all three -> N9.
  retryEdit: {
    say: (c) => [`after.${c.answers.lastFix ?? 'cache_cookies'}`, closed(c) ? 'retryClosed' : 'retryAwaiting', 'prompt'],
    options: {
      worked: { to: 'verifyUpdate' },
      failed: { to: [{ when: 'allFixesTried', to: 'needsCase', caseReason: 'fixes_failed' }, { to: 'browserFixes' }] },
    },
  },
  // N6: verify in Transaction Manager. Came only to check and the change is not there: make it now.
  verifyUpdate: {
    say: (c) => [c.answers.fixesTried.includes('edit_steps') ? 'afterEdit' : 'intro', 'steps', 'partners', 'prompt'],
    options: {
      updated: { to: 'changeConfirmed' },
      not_updated: { to: [{ when: 'editedInThisConversation', to: 'needsCase', caseReason: 'verification_failed' }, { to: 'orderLineStatus' }] },
    },
  },
});

export type QuestionStep = keyof typeof QUESTIONS;
