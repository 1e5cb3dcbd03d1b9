/**
 * The runtime side of the intake flow's actors, built per turn: `openCase` turns a confirmed draft
 * into a case record added to the turn's commit (so the case and the conversation move together),
 * `caseStatus` reads a case back for the person who opened it.
 */
import { createHash } from 'node:crypto';
import { fromPromise } from 'xstate';
import {
  caseStatusInput,
  openCaseInput,
  type CaseStatusOutput,
  type OpenCaseOutput,
} from '../../dialogs/support-case/contract';
import type { TurnScope } from '../engine/engine';
import type { Translator } from '../i18n';
import type { Logger } from '../log';
import type { CaseRepository } from './repository';
import type { Store } from '../storage/store';
import type { Inbound } from '../engine/types';
import { canSeeCase, userKeyOf, type Agents } from '../security/identity';
import { formatReference, type CaseBackendName, type CaseRecord } from './schema';
import { buildCaseSummary } from './summary';

export interface CaseRuntimeDeps {
  repository: CaseRepository;
  store: Pick<Store, 'loadTranscript'>;
  translator: Translator;
  logger: Logger;
  backend: CaseBackendName;
  /** Who is an agent (AGENT_IDS, matched against ids the channel proved). */
  agents: Agents;
}

export class CaseIncompleteError extends Error {
  constructor(readonly missing: string[]) {
    super(`The case cannot be opened without: ${missing.join(', ')}`);
    this.name = 'CaseIncompleteError';
  }
}

export class CaseNotVisibleError extends Error {
  constructor(reference: string) {
    super(`Case ${reference} does not exist or belongs to someone else`);
    this.name = 'CaseNotVisibleError';
  }
}

/**
 * One conversation confirming the same content twice (double press, re-sent activity, retry) is one
 * case. A case opened because an earlier one was closed unsolved (`follows`, the closure flow's
 * trail) is a new case even with the same content.
 */
export function dedupeKey(
  conversationKey: string,
  c: Pick<CaseRecord, 'orderNumber' | 'subscriptionId' | 'currentContactEmail' | 'newContactEmail' | 'attachments'>,
  follows?: string,
): string {
  const canonical = JSON.stringify([
    conversationKey,
    c.orderNumber,
    c.subscriptionId?.toLowerCase(),
    c.currentContactEmail.toLowerCase(),
    c.newContactEmail.toLowerCase(),
    c.attachments.map((a) => a.url),
    ...(follows ? [follows] : []),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** The closed case a new one follows: the closure flow names it in the trail it hands over. */
function followedCase(trail: readonly { step: string; text?: string }[] | undefined): string | undefined {
  return trail?.findLast((t) => t.step === 'closure.notSolved')?.text;
}

/** May this person read the case? The one who opened it, or an agent (src/security/identity.ts decides). */
export function canSee(record: CaseRecord, inbound: Pick<Inbound, 'channel' | 'user'>, agents: Agents): boolean {
  return canSeeCase(record.openedBy.userKey, inbound, agents);
}

function opened(record: CaseRecord, deps: CaseRuntimeDeps): OpenCaseOutput {
  const manual = record.delivery.status === 'manual';
  return {
    reference: record.reference,
    delivery: manual ? 'manual' : 'queued',
    summary: manual ? buildCaseSummary(record, deps.translator) : undefined,
  };
}

export function caseActors(deps: CaseRuntimeDeps) {
  return (scope: TurnScope) => ({
    openCase: fromPromise<OpenCaseOutput, unknown>(async ({ input }) => {
      const { draft } = openCaseInput.parse(input);
      // The order number and the subscription id may be "not known"; the addresses are the change itself.
      const unknownFields = (draft.unknownFields ?? []).filter((k) => !draft[k]);
      const missing = (['orderNumber', 'subscriptionId', 'currentContactEmail', 'newContactEmail'] as const).filter(
        (k) => !draft[k] && !(unknownFields as string[]).includes(k),
      );
      if (missing.length) throw new CaseIncompleteError(missing);
      const fields = {
        orderNumber: draft.orderNumber,
        subscriptionId: draft.subscriptionId,
        currentContactEmail: draft.currentContactEmail!,
        newContactEmail: draft.newContactEmail!,
        attachments: draft.attachments,
      };
      const key = dedupeKey(scope.conversationKey, fields, followedCase(draft.trail));
      const already = scope.commit.cases?.find((c) => c.dedupeKey === key)?.record ?? (await deps.repository.findByDedupeKey(key));
      if (already) {
        deps.logger.info({ case: already.reference, conversation: scope.conversationKey }, 'case already opened for this confirmation');
        return opened(already, deps);
      }

      const [number, transcript] = await Promise.all([deps.repository.nextNumber(), deps.store.loadTranscript(scope.conversationKey)]);
      // The person as the channel knows them (Teams: the email), in case the run began without it.
      const { user } = await scope.identified();
      const record: CaseRecord = {
        reference: formatReference(number),
        requestType: draft.requestType,
        conversationKey: scope.conversationKey,
        locale: scope.locale,
        channel: draft.channel,
        openedBy: {
          kind: draft.mode === 'agent' ? 'agent' : 'person',
          userKey: userKeyOf(scope.inbound),
          name: draft.requester.name ?? user.name,
          email: draft.requester.email ?? user.email,
        },
        customer: draft.customer,
        ...fields,
        ...(unknownFields.length ? { unknownFields } : {}),
        orderLineStatus: draft.orderLineStatus,
        canEditInCcw: draft.canEditInCcw,
        ponrPassed: draft.ponrPassed,
        fixesTried: draft.fixesTried,
        reason: draft.reason,
        trail: draft.trail,
        transcript,
        createdAt: scope.now,
        delivery: {
          backend: deps.backend,
          status: deps.backend === 'local' ? 'manual' : 'pending',
          attempts: 0,
          nextAttemptAt: deps.backend === 'local' ? undefined : scope.now,
        },
      };
      scope.commit.cases = [...(scope.commit.cases ?? []), { record, dedupeKey: key }];
      deps.logger.info({ case: record.reference, conversation: scope.conversationKey, backend: deps.backend }, 'case opened');
      return opened(record, deps);
    }),

    caseStatus: fromPromise<CaseStatusOutput, unknown>(async ({ input }) => {
      const { reference } = caseStatusInput.parse(input);
      const record = await deps.repository.findByReference(reference);
      if (!record || !canSee(record, scope.inbound, deps.agents)) throw new CaseNotVisibleError(reference);
      const { status, externalId, attempts } = record.delivery;
      return { reference, status, externalId, ...(status === 'pending' && attempts > 0 ? { retrying: true } : {}) };
    }),
  });
}
