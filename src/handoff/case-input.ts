/**
 * What the bot knows when a person asks for a person: the case draft the conversation has so far,
 * so that the engineer's card shows it and a case offered later asks for nothing twice. Read from
 * where the conversation stands: the guide's answers, the case intake's draft, or the draft a flow
 * the bot started on its own carries; the nearest flow that has one, from the top of the stack.
 */
import type { FlowInput } from '../../dialogs/flow';
import { caseIntakeFrom, type ProvisioningContactContext } from '../../dialogs/provisioning-contact/context';
import { caseDraft, type CaseIntakeInput } from '../../dialogs/support-case/case-draft';

export interface StoodAt {
  flowId: string;
  snapshot: unknown;
}

const partialDraft = caseDraft.partial();

function draftIn(at: StoodAt): CaseIntakeInput['draft'] | undefined {
  const context = (at.snapshot as { context?: Record<string, unknown> } | null)?.context;
  if (!context) return undefined;
  if (at.flowId === 'provisioning-contact' && Array.isArray(context.trail)) {
    const draft = caseIntakeFrom(context as unknown as ProvisioningContactContext).draft;
    return { ...draft, reason: 'requested' };
  }
  // The case intake keeps its draft; flows the bot starts on its own carry one in their input.
  const candidate = context.draft ?? (context.input as { draft?: unknown } | undefined)?.draft;
  const parsed = partialDraft.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}

/** The case input for a hand-off asked for now, from the running flow and the flows under it. */
export function caseInputFrom(stack: readonly StoodAt[], flowInput: FlowInput): CaseIntakeInput {
  for (const at of [...stack].reverse()) {
    const draft = draftIn(at);
    if (draft) return { flowInput, draft: { ...draft, locale: flowInput.locale, channel: flowInput.channel } };
  }
  return { flowInput, draft: { locale: flowInput.locale, channel: flowInput.channel, mode: flowInput.mode, requester: { ...flowInput.user }, trail: [], reason: 'requested' } };
}
