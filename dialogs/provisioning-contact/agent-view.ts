/**
 * Agent mode of the provisioning-contact view (issue 7): each question phrased as what the agent asks
 * the customer plus the article's reason, jump-back choices to any earlier question, the customer's
 * details as facts, and at every ending case notes to paste (decision trail, facts, outcome).
 * Keys only: the notes are lines whose params name other keys, resolved by i18next nesting.
 */
import { customerFacts as enteredCustomerFacts } from '../agent-triage/view';
import type { Choice, Fact, Line } from '../flow';
import type { TrailEntry } from '../support-case/case-draft';
import { CMD_SUPPORT } from './steps';

/** Choice ids of jump-back buttons: `jump.<step>`; the machine also accepts `{ type: 'JUMP', step }`. */
export const JUMP_PREFIX = 'jump.';
const AGENT = 'agent:';
const FLOW = 'provisioning-contact:';

export interface AgentViewContext {
  input: { user: { id: string; name?: string }; channel: string; customer?: { name?: string; email?: string; orderNumber?: string } };
  trail: readonly TrailEntry[];
}

/** What the agent reads at a question: what to ask (with the article's values) and why. */
export function agentQuestionLines(step: string, params: Record<string, string | number>): Line[] {
  return [
    { key: `${AGENT}ask.${step}`, params },
    { key: `${AGENT}reason.${step}`, params },
  ];
}

/** One button per earlier question, in the order they were answered (each once). */
export function jumpChoices(c: AgentViewContext): Choice[] {
  const steps: string[] = [];
  for (const entry of c.trail) if (!steps.includes(entry.step)) steps.push(entry.step);
  return steps.map((step) => ({ id: `${JUMP_PREFIX}${step}`, labelKey: `${AGENT}jump`, params: { step } }));
}

/** The customer the agent entered at the triage intake, shown as there. */
export function customerFacts(c: AgentViewContext): Fact[] {
  return enteredCustomerFacts(c.input.customer ?? {});
}

function answerKey(entry: TrailEntry): string {
  return entry.choice === CMD_SUPPORT ? `${FLOW}common.choices.support` : `${FLOW}${entry.step}.choices.${entry.choice}`;
}

/** Case notes: customer, agent, every answer in order, the facts collected, the outcome. */
export function caseNotes(c: AgentViewContext, facts: readonly Fact[], finalStep: string): Line[] {
  const customer = c.input.customer ?? {};
  const lines: Line[] = [
    { key: `${AGENT}notes.heading` },
    { key: `${AGENT}notes.customer`, params: { name: customer.name ?? '—', email: customer.email ?? '—', orderNumber: customer.orderNumber ?? '—' } },
    { key: `${AGENT}notes.agent`, params: { agent: c.input.user.name ?? c.input.user.id, channel: c.input.channel } },
    { key: `${AGENT}notes.trailHeading` },
  ];
  const answered = c.trail.filter((e) => e.choice);
  if (answered.length === 0) lines.push({ key: `${AGENT}notes.noAnswers` });
  answered.forEach((entry, i) => lines.push({ key: `${AGENT}notes.trailEntry`, params: { n: i + 1, step: entry.step, answerKey: answerKey(entry) } }));
  if (facts.length) {
    lines.push({ key: `${AGENT}notes.factsHeading` });
    for (const f of facts) {
      lines.push(
        f.valueKey
          ? { key: `${AGENT}notes.fact`, params: { labelKey: f.labelKey, valueKey: f.valueKey } }
          : { key: `${AGENT}notes.factValue`, params: { labelKey: f.labelKey, value: f.value ?? '' } },
      );
    }
  }
  lines.push({ key: `${AGENT}notes.outcome`, params: { step: finalStep } });
  return lines;
}

export const openCaseForCustomerChoice: Choice = { id: CMD_SUPPORT, labelKey: `${AGENT}notes.openCase` };
