/**
 * What the person sees after pressing 👍/👎 or "check back" at an ending: keys and choice ids only.
 * None of these steps is an ending of the guide (no `outcome`): the funnel counts the ending rated.
 */
import type { Choice, StepView } from '../flow';
import { keysIn, stepView } from '../kit';
import type { AfterEndingInput } from './contract';
import { endingOfferChoices } from './offers';

export const SKIP_COMMENT = 'skip_comment';

export interface AfterEndingContext {
  input: AfterEndingInput;
  mode: 'self' | 'agent';
  rated: boolean;
  followupPending: boolean;
  /** The stored rating, which a comment is added to. */
  ratingId?: string;
  missed?: true;
}

const { key, line, option } = keysIn('followup:');
const restart: Choice = { id: 'cmd.restart', labelKey: 'provisioning-contact:common.choices.restart' };
const support: Choice = { id: 'cmd.support', labelKey: 'provisioning-contact:common.choices.support' };

/** What is still on offer at an ending of this flow, then "start over" (and "talk to support" if offered). */
function stillOffered(c: AfterEndingContext): Choice[] {
  const checkBackHours = c.input.followup && !c.followupPending ? c.input.followup.hours : undefined;
  return [...endingOfferChoices({ rate: !c.rated, checkBackHours }), restart, ...(c.input.onSupport && c.input.showsSupport ? [support] : [])];
}

export function afterEndingView(snapshot: { value: unknown; context: AfterEndingContext }): StepView {
  const step = String(snapshot.value);
  const c = snapshot.context;
  const helpKey = key('after.help');
  const reminder = c.followupPending ? [line('after.stopHint')] : [];
  switch (step) {
    case 'afterComment': {
      const checkBack = c.input.followup && !c.followupPending ? endingOfferChoices({ rate: false, checkBackHours: c.input.followup.hours }) : [];
      return stepView(step, {
        lines: [
          { ...line(c.input.choice === 'helped' ? 'after.thanksUp' : 'after.thanksDown'), opening: true },
          ...(c.missed ? [{ ...line('after.reprompt'), notice: true, listChoices: true }] : []),
          line('after.commentPrompt'),
        ],
        choices: [option(SKIP_COMMENT, 'after.skipComment'), ...checkBack],
        expects: 'text',
        helpKey,
      });
    }
    case 'afterThanked':
      return stepView(step, { lines: [line(c.rated ? 'after.thanked' : 'after.notStored'), ...reminder], choices: stillOffered(c), helpKey });
    case 'afterCheckBackSet': {
      const hours = c.input.followup?.hours ?? 24;
      const when = hours === 24 ? line('after.checkBackTomorrow') : line('after.checkBackIn', { count: hours });
      return stepView(step, { lines: [when, line('after.stopHint')], choices: stillOffered(c), helpKey });
    }
    case 'afterCheckBackFailed':
      return stepView(step, { lines: [line('after.checkBackFailed')], choices: stillOffered(c), helpKey });
    default:
      // Passing steps (storing, scheduling) and the hand-off to support: seen only if the runtime is slow.
      return stepView(step, { lines: [line('after.working')], helpKey });
  }
}
