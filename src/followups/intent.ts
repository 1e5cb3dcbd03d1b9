/**
 * "Stop reminders" / "не нагадувати" cancels the conversation's pending follow-ups in the turn's
 * commit; "status" / "reminders" / "нагадування" says when the bot will check back (issue 23). Both
 * are read only for short messages that say just that, so nothing else is taken for them; only then
 * is the store asked.
 */
import type { Line } from '../../dialogs/flow';
import type { Intent } from '../engine/scope';
import { cancelFollowups } from './actors';
import type { FollowupsRepository } from './repository';

// (\b does not work next to Cyrillic letters in JS regular expressions, hence the explicit anchors.)
const STOP = /^\s*(?:(?:please\s+)?(?:stop|cancel|no(?:\s+more)?|don['’]?t\s+send)\s+(?:the\s+|my\s+)?(?:reminders?|follow[\s-]?ups?|check[\s-]?backs?)|(?:будь\s+ласка,?\s+)?(?:не\s+нагадуй(?:те)?|не\s+нагадувати|скасуй(?:те)?\s+нагадування|скасувати\s+нагадування|без\s+нагадувань|більше\s+не\s+нагадуйте))\s*[.!]*\s*$/iu;
const STATUS = /^\s*(?:status|my\s+status|reminders?|my\s+reminders?|follow[\s-]?ups?|статус|мій\s+статус|нагадування|мої\s+нагадування)\s*\??\s*$/iu;
const REMINDERS_ONLY = /remind|follow|нагад/iu;

export function parseFollowupIntent(text: string): 'stop' | 'status' | undefined {
  if (STOP.test(text)) return 'stop';
  if (STATUS.test(text)) return 'status';
  return undefined;
}

/** `2026-12-06 20:10 UTC`: the same in every language and unambiguous across time zones. */
const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

export function createFollowupIntent(deps: { repository: Pick<FollowupsRepository, 'pendingFor'>; onStop?: () => void }): Intent {
  return async (text, scope): Promise<Line[] | undefined> => {
    const asked = parseFollowupIntent(text);
    if (!asked) return undefined;
    const pending = await deps.repository.pendingFor(scope.conversationKey);
    if (asked === 'stop') {
      if (!pending.length) return [{ key: 'followup:stop.none' }];
      cancelFollowups(scope, 'stopped');
      deps.onStop?.();
      return [{ key: 'followup:stop.done', params: { count: pending.length } }];
    }
    // A bare "status" with no follow-up pending is left to whoever else understands it.
    if (!pending.length) return REMINDERS_ONLY.test(text) ? [{ key: 'followup:status.none' }] : undefined;
    return [...pending.map((f) => ({ key: 'followup:status.pending', params: { at: when(f.dueAt) } })), { key: 'followup:status.stopHint' }];
  };
}
