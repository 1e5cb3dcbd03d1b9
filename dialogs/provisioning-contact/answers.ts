/**
 * What the flow knows about the order, derived from the decision trail alone. Keeping the trail as
 * the single source means BACK only has to drop the last answer.
 */
import type { CaseDraft, FixTried, TrailEntry } from './case-draft';

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

const isBrowserFix = (choice: string): choice is BrowserFix => (BROWSER_FIXES as readonly string[]).includes(choice);

export function deriveAnswers(trail: readonly TrailEntry[]): Answers {
  const a: Answers = { fixesTried: [], popupSeen: false };
  const tried = (fix: FixTried) => {
    if (!a.fixesTried.includes(fix)) a.fixesTried.push(fix);
  };
  for (const { step, choice } of trail) {
    switch (`${step}:${choice ?? ''}`) {
      case 'spamCheck:found':
      case 'spamCheck:not_found':
        tried('spam_check');
        break;
      case 'orderLineStatus:awaiting':
      case 'lineStatusHelp:awaiting':
        a.orderLineStatus = 'awaiting';
        break;
      case 'orderLineStatus:closed':
      case 'lineStatusHelp:closed':
        a.orderLineStatus = 'closed';
        break;
      case 'orderLineStatus:not_sure':
      case 'lineStatusHelp:cant_find':
        a.orderLineStatus = 'unknown';
        break;
      case 'editAccess:can_edit':
      case 'closedOrder:can_edit':
        a.canEditInCcw = 'yes';
        break;
      case 'editAccess:cannot_edit':
      case 'closedOrder:cannot_edit':
        a.canEditInCcw = 'no';
        break;
      case 'ponrCheck:onboarded':
      case 'ponrHelp:onboarded':
        a.ponrPassed = 'yes';
        break;
      case 'ponrCheck:not_onboarded':
      case 'ponrHelp:not_onboarded':
        a.ponrPassed = 'no';
        break;
      case 'ponrCheck:not_sure':
      case 'ponrHelp:still_not_sure':
        a.ponrPassed = 'unknown';
        break;
      case 'editSteps:worked':
      case 'editSteps:failed':
      case 'closedEditSteps:worked':
      case 'closedEditSteps:failed':
        tried('edit_steps');
        break;
      case 'closedEditSteps:popup_admin':
        tried('edit_steps');
        a.popupSeen = true;
        break;
      default:
        if (step === 'browserFixes' && choice && isBrowserFix(choice)) {
          tried(choice);
          a.lastFix = choice;
        }
    }
  }
  return a;
}
