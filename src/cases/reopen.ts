/**
 * "Ask to reopen it" after a case was closed unsolved (issue 21, the case-closure flow): the request
 * reaches the support system as an addition to the case, with the same guarantees as any addition
 * (stored in the turn's commit, pushed once by ./additions-outbox.ts): Smart Bonding as a case
 * update, ServiceNow as a customer comment (which reopens a resolved incident), the webhook as a
 * signed `case.addition`. Where the backend takes no additions (local, email) or the case never
 * reached it, the person is told how to ask support themselves.
 */
import { randomUUID } from 'node:crypto';
import { fromPromise } from 'xstate';
import { reopenRequestInput, type ReopenRequestOutput } from '../../dialogs/case-closure/steps';
import type { TurnScope } from '../engine/engine';
import { userKeyOf, type Agents } from '../security/identity';
import type { CaseBackend } from './backends/types';
import { canSee } from './open-case';
import type { CaseRepository } from './repository';

/** What support reads: English, as every case text the bot writes for them. */
export const REOPEN_TEXT = 'The customer reports that the problem is not solved and asks to reopen this case.';

export interface ReopenDeps {
  repository: Pick<CaseRepository, 'findByReference'>;
  backend?: Pick<CaseBackend, 'name' | 'addToCase'>;
  agents: Agents;
  newId?: () => string;
}

export function reopenActor(deps: ReopenDeps, scope: TurnScope) {
  return fromPromise<ReopenRequestOutput, unknown>(async ({ input }) => {
    const { reference } = reopenRequestInput.parse(input);
    const record = await deps.repository.findByReference(reference);
    if (!record || !canSee(record, scope.inbound, deps.agents)) return { sent: false };
    const { backend } = deps;
    if (!backend?.addToCase || record.delivery.status !== 'delivered' || record.delivery.backend !== backend.name) return { sent: false };
    scope.commit.caseAdditions = [
      ...(scope.commit.caseAdditions ?? []),
      {
        id: (deps.newId ?? randomUUID)(),
        reference,
        conversationKey: scope.conversationKey,
        addedBy: userKeyOf(scope.inbound),
        backend: backend.name,
        text: REOPEN_TEXT,
        attachments: [],
        createdAt: scope.now,
      },
    ];
    return { sent: true };
  });
}
