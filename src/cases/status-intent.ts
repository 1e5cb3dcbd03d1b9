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
}

export function createCaseStatusIntent(deps: CaseStatusIntentDeps): Intent {
  return async (text, scope): Promise<Line[] | undefined> => {
    const reference = parseStatusQuestion(text);
    if (!reference) return undefined;
    const record = await deps.repository.findByReference(reference);
    if (!record || !canSee(record, scope.inbound, deps.agents)) return [{ key: 'cases:status.notFound', params: { reference } }];
    if (record.conversationKey === scope.conversationKey && deps.conversations) {
      const conversation = await deps.conversations.loadConversation(scope.conversationKey);
      if (conversation && caseAnsweredBy(conversation.flowId, conversation.snapshot) === reference) return undefined;
    }
    const { status, externalId, attempts } = record.delivery;
    if (status === 'delivered' && externalId) return [{ key: 'cases:status.deliveredWithTicket', params: { reference, externalId } }];
    // Still being sent after an unsuccessful attempt: the backend is away, not refusing (a refusal fails the case).
    if (status === 'pending' && attempts > 0) return [{ key: 'cases:status.retrying', params: { reference } }];
    return [{ key: `cases:status.${status}`, params: { reference } }];
  };
}
