/**
 * What the flow knows about the order, derived from the decision trail alone: each answer in the
 * step table says what it records. Keeping the trail as the single source means BACK only has to
 * drop the last answer.
 */
import type { Fact } from '../flow';
import { keysIn } from '../kit';
import type { CaseDraft, FixTried, TrailEntry } from '../support-case/case-draft';

/** N8's browser fixes, in the order the article lists them. */
export const BROWSER_FIXES = ['cache_cookies', 'other_browser', 'incognito'] as const;
export type BrowserFix = (typeof BROWSER_FIXES)[number];

export interface Answers {
  orderLineStatus?: NonNullable<CaseDraft['orderLineStatus']>;
  canEditInCcw?: NonNullable<CaseDraft['canEditInCcw']>;
  ponrPassed?: NonNullable<CaseDraft['ponrPassed']>;
  /** Everything tried so far, in order, without repeats. */
  fixesTried: FixTried[];
  /** The browser fix tried last (N8), for "did the edit work after …?". */
  lastFix?: BrowserFix;
  /** 2(a): CCW showed the pop-up that sends the contact to admin.webex.com. */
  popupSeen: boolean;
}

/** What one answer records (an answer of the step table's `records`). */
export interface Records {
  orderLineStatus?: Answers['orderLineStatus'];
  canEditInCcw?: Answers['canEditInCcw'];
  ponrPassed?: Answers['ponrPassed'];
  /** Something tried (spam folder, the edit steps). */
  tried?: FixTried;
  /** A browser fix tried: also the last one. */
  fix?: BrowserFix;
  popupSeen?: true;
}

export function deriveAnswers(trail: readonly TrailEntry[], recordsOf: (entry: TrailEntry) => Records | undefined): Answers {
  const a: Answers = { fixesTried: [], popupSeen: false };
  const tried = (fix: FixTried) => {
    if (!a.fixesTried.includes(fix)) a.fixesTried.push(fix);
  };
  for (const entry of trail) {
    const { tried: done, fix, ...values } = recordsOf(entry) ?? {};
    if (done) tried(done);
    if (fix) {
      tried(fix);
      a.lastFix = fix;
    }
    Object.assign(a, values);
  }
  return a;
}

const { key } = keysIn('provisioning-contact:');

/** What is known, as the facts a case starts from. */
export function caseFacts(a: Answers): Fact[] {
  const facts: Fact[] = [];
  if (a.orderLineStatus) facts.push({ labelKey: key('facts.orderLineStatus'), valueKey: key(`facts.status.${a.orderLineStatus}`) });
  if (a.canEditInCcw) facts.push({ labelKey: key('facts.canEditInCcw'), valueKey: key(`facts.yesNoUnknown.${a.canEditInCcw}`) });
  if (a.ponrPassed) facts.push({ labelKey: key('facts.ponrPassed'), valueKey: key(`facts.yesNoUnknown.${a.ponrPassed}`) });
  const fixes = a.fixesTried.filter((f): f is BrowserFix => (BROWSER_FIXES as readonly string[]).includes(f));
  if (fixes.length) facts.push({ labelKey: key('facts.fixesTried'), value: String(fixes.length) });
  return facts;
}
