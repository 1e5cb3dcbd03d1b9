/**
 * Adding to an open case from the chat (issue 21): "add to my case: …", "додати до звернення: …",
 * "add to PCE-000123: …"; and, while the conversation's case waits for the customer, any plain
 * message or file. The addition is kept in the turn's commit (./additions-repository.ts), confirmed
 * in the person's language, and pushed to the case backend by ./additions-outbox.ts. Only the
 * person who opened the case, or an agent, may add to it: anyone else naming a reference hears the
 * status intent's "not found", so references cannot be probed; a case that is not theirs never
 * takes their plain messages.
 */
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Line } from '../../dialogs/flow';
import type { Intent, TurnScope } from '../engine/engine';
import { userKeyOf, type Agents } from '../security/identity';
import type { CaseBackend } from './backends/types';
import { canSee } from './open-case';
import type { CaseRepository } from './repository';
import { formatReference, type CaseRecord } from './schema';
import type { CaseUpdatesRepository } from './updates-repository';

const REF = 'PCE[\\s-]?(\\d{1,9})';
/** (\b does not work next to Cyrillic letters in JS regular expressions, hence the explicit separators.) */
const ADD = new RegExp(
  `^\\s*(?:add|додати|додай|додайте)\\s+(?:(?:this|це)\\s+)?(?:to|до)\\s+(?:(?:(?:my|the|мого|свого|цього)\\s+)?(?:case|ticket|звернення|заявки)(?:\\s+${REF})?|${REF})\\s*(?:[:—–-]|\\n|$)`,
  'iu',
);

/** "add to …: text" read apart: the case named (if any) and what to add. */
export function parseAddition(text: string): { reference?: string; text: string } | undefined {
  const match = ADD.exec(text);
  if (!match) return undefined;
  const n = match[1] ?? match[2];
  return { ...(n ? { reference: formatReference(Number(n)) } : {}), text: text.slice(match[0].length).trim() };
}

export interface CaseAddIntentDeps {
  repository: Pick<CaseRepository, 'findByReference' | 'listByConversation' | 'deliveredInConversation'>;
  updates: Pick<CaseUpdatesRepository, 'history'>;
  agents: Agents;
  /** The configured backend: additions go through its `addToCase`. */
  backend?: Pick<CaseBackend, 'name' | 'addToCase'>;
  newId?: () => string;
  /** How long "this conversation has no delivered case" is trusted without asking the store again. */
  noCaseTtlMs?: number;
}

export interface CaseAddIntent {
  intent: Intent;
  /** Forget what was cached: a case was delivered or an update stored on this instance. */
  forget(): void;
}

const line = (key: string, params?: Record<string, string | number>): Line[] => [{ key: `cases:add.${key}`, ...(params ? { params } : {}) }];

export function createCaseAddIntent(deps: CaseAddIntentDeps): CaseAddIntent {
  // Every plain message asks "does this conversation have a delivered case?": the answer "no",
  // by far the most common, is kept a while so that a turn costs no extra query.
  const noCase = new LRUCache<string, true>({ max: 50_000, ttl: deps.noCaseTtlMs ?? 30_000 });
  const latest = async (reference: string) => (await deps.updates.history(reference)).at(-1)?.status;

  function take(record: CaseRecord, text: string, scope: TurnScope): Line[] {
    const files = scope.inbound.attachments ?? [];
    scope.commit.caseAdditions = [
      ...(scope.commit.caseAdditions ?? []),
      {
        id: (deps.newId ?? randomUUID)(),
        reference: record.reference,
        conversationKey: scope.conversationKey,
        addedBy: userKeyOf(scope.inbound),
        backend: deps.backend!.name,
        text,
        attachments: files,
        createdAt: scope.now,
      },
    ];
    return line(files.length ? 'confirmedWithFiles' : 'confirmed', { reference: record.reference, ...(files.length ? { count: files.length } : {}) });
  }

  /** Why `record` takes no addition now, or undefined when it does. */
  async function refusal(record: CaseRecord): Promise<Line[] | undefined> {
    const { reference, delivery } = record;
    if (delivery.status === 'pending') return line('notYetDelivered', { reference });
    if (delivery.status === 'manual') return line('manual', { reference });
    if (delivery.status === 'failed') return line('failed', { reference });
    if ((await latest(reference)) === 'closed') return line('closed', { reference });
    if (!deps.backend?.addToCase || deps.backend.name !== delivery.backend) return line('notSupported', { reference });
    return undefined;
  }

  /** "add to my case": the one open case of this conversation that is theirs. */
  async function ownCase(scope: TurnScope): Promise<CaseRecord | Line[]> {
    const mine = (await deps.repository.listByConversation(scope.conversationKey)).filter((r) => canSee(r, scope.inbound, deps.agents));
    const open: CaseRecord[] = [];
    for (const r of mine) if (r.delivery.status === 'delivered' && (await latest(r.reference)) !== 'closed') open.push(r);
    if (open.length === 1) return open[0]!;
    if (open.length > 1) return line('whichCase', { references: open.map((r) => r.reference).join(', '), example: open[0]!.reference });
    // None open: say why for the newest of theirs (on its way, closed), or that there is none.
    return mine[0] ? ((await refusal(mine[0])) ?? line('noOpenCase')) : line('noOpenCase');
  }

  async function explicit(asked: { reference?: string; text: string }, scope: TurnScope): Promise<Line[]> {
    let record: CaseRecord | undefined;
    if (asked.reference) {
      record = await deps.repository.findByReference(asked.reference);
      if (!record || !canSee(record, scope.inbound, deps.agents)) return [{ key: 'cases:status.notFound', params: { reference: asked.reference } }];
    } else {
      const own = await ownCase(scope);
      if (Array.isArray(own)) return own;
      record = own;
    }
    const refused = await refusal(record);
    if (refused) return refused;
    if (!asked.text && !scope.inbound.attachments?.length) return line('empty', { reference: record.reference });
    return take(record, asked.text, scope);
  }

  /** A plain message while a case of theirs in this conversation waits for them. */
  async function implicit(text: string, scope: TurnScope): Promise<Line[] | undefined> {
    if (!deps.backend?.addToCase || (!text.trim() && !scope.inbound.attachments?.length)) return undefined;
    if (noCase.has(scope.conversationKey)) return undefined;
    const delivered = await deps.repository.deliveredInConversation(scope.conversationKey);
    if (!delivered.length) {
      noCase.set(scope.conversationKey, true);
      return undefined;
    }
    const waiting: string[] = [];
    for (const c of delivered) if ((await latest(c.reference)) === 'waiting_for_customer') waiting.push(c.reference);
    // Two cases waiting at once: which one is meant is not guessed; "add to PCE-…: …" says it.
    if (waiting.length !== 1) return undefined;
    const record = await deps.repository.findByReference(waiting[0]!);
    if (!record || !canSee(record, scope.inbound, deps.agents) || (await refusal(record))) return undefined;
    return take(record, text.trim(), scope);
  }

  return {
    intent: async (text, scope) => {
      const asked = parseAddition(text);
      return asked ? explicit(asked, scope) : implicit(text, scope);
    },
    forget: () => noCase.clear(),
  };
}
