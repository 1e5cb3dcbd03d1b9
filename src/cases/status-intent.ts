/**
 * "What is the status of PCE-000123" / "який статус PCE-000123": answered from the store, only to
 * the person who opened the case or an agent. Anyone else hears the same "not found" as for a
 * reference that does not exist, so references cannot be probed. Asked in the conversation that is
 * still at that case's intake, it is left to the intake, whose short answer says the same (an intent's
 * lines come above the current step, which would repeat the status, or the whole summary to paste).
 */
import type { Line } from '../../dialogs/flow';
import { caseAnsweredBy } from '../../dialogs/support-case/index';
import type { Store } from '../storage/store';
import type { Intent } from '../engine/engine';
import type { CaseRepository } from './repository';
import { canSee } from './open-case';
import type { Agents } from '../security/identity';
import { formatReference } from './schema';
import type { CaseUpdatesRepository } from './updates-repository';

const REFERENCE = /\bPCE[\s-]?(\d{1,9})\b/i;
/** A reference alone, or with a word asking about it, in either language. */
// (\b does not work next to Cyrillic letters in JS regular expressions, hence the explicit spaces.)
const ASKING = /^\s*PCE[\s-]?\d{1,9}\s*\??\s*$|status|state|progress|where|ticket|статус|стан|(?:^|\s)де(?:\s|$)|що з|як там|заявк|звернен/i;

export function parseStatusQuestion(text: string): string | undefined {
  const match = REFERENCE.exec(text);
  if (!match || !ASKING.test(text)) return undefined;
  return formatReference(Number(match[1]));
}

export interface CaseStatusIntentDeps {
  repository: CaseRepository;
  agents: Agents;
  /** Where the conversation stands (the intake answers about its own case itself). */
  conversations?: Pick<Store, 'loadConversation'>;
  /** Status updates from the support system: the live status and its history (issue 21). */
  updates?: Pick<CaseUpdatesRepository, 'history'>;
}

/** The most recent updates shown in the history (older ones are left out, and said to be). */
export const HISTORY_SHOWN = 10;

/** `2026-12-06 20:10 UTC`: the same in every language and unambiguous across time zones. */
function when(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export function createCaseStatusIntent(deps: CaseStatusIntentDeps): Intent {
  return async (text, scope): Promise<Line[] | undefined> => {
    const reference = parseStatusQuestion(text);
    if (!reference) return undefined;
    const record = await deps.repository.findByReference(reference);
    if (!record || !canSee(record, scope.inbound, deps.agents)) return [{ key: 'cases:status.notFound', params: { reference } }];
    // Once the support system has reported back, its history is the answer, even at the case's own intake.
    const history = (await deps.updates?.history(reference)) ?? [];
    if (!history.length && record.conversationKey === scope.conversationKey && deps.conversations) {
      const conversation = await deps.conversations.loadConversation(scope.conversationKey);
      if (conversation && caseAnsweredBy(conversation.flowId, conversation.snapshot) === reference) return undefined;
    }
    if (history.length) {
      // The support system has spoken: its latest word is the status; the messages stay in the conversation.
      const latest = history[history.length - 1]!;
      const shown = history.slice(-HISTORY_SHOWN);
      return [
        { key: `cases:status.live.${latest.status}`, params: { reference } },
        { key: 'cases:status.historyTitle' },
        ...shown.map((u) => ({ key: `cases:status.historyEntry.${u.status}`, params: { at: when(u.receivedAt) } })),
        ...(history.length > shown.length ? [{ key: 'cases:status.historyOlder', params: { count: history.length - shown.length } }] : []),
      ];
    }
    const { status, externalId, attempts } = record.delivery;
    if (status === 'delivered' && externalId) return [{ key: 'cases:status.deliveredWithTicket', params: { reference, externalId } }];
    // Still being sent after an unsuccessful attempt: the backend is away, not refusing (a refusal fails the case).
    if (status === 'pending' && attempts > 0) return [{ key: 'cases:status.retrying', params: { reference } }];
    return [{ key: `cases:status.${status}`, params: { reference } }];
  };
}
