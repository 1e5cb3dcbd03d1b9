/** What the agent sees at each step of the triage intake, derived from its table: keys only. */
import type { CustomerRef, Fact, Line, StepView } from '../flow';
import { keysIn, stepView } from '../kit';
import type { AgentTriageContext } from './context';
import { INTAKE, type IntakeField, type IntakeStep } from './steps';

const { key, line, option } = keysIn('agent:intake.');

/** The customer as the agent entered them; the troubleshooting flow shows them the same way. */
export function customerFacts(customer: CustomerRef): Fact[] {
  const facts: Fact[] = [];
  if (customer.name) facts.push({ labelKey: key('fact.name'), value: customer.name });
  if (customer.email) facts.push({ labelKey: key('fact.email'), value: customer.email });
  if (customer.orderNumber) facts.push({ labelKey: key('fact.orderNumber'), value: customer.orderNumber });
  return facts;
}

function intakeView(step: IntakeStep, c: AgentTriageContext): StepView {
  const lines: Line[] = [];
  if (step === 'customerName' && !c.hint && !c.returned) lines.push({ ...line('intro'), opening: true });
  if (c.hint) lines.push({ key: c.hint, notice: true });
  lines.push(line(`${step}.prompt`));
  const options = (INTAKE[step] as IntakeField).options ?? {};
  const choices = Object.entries(options).map(([id, o]) => option(id, `${step}.${o.label}`));
  return stepView(step, { lines, choices, facts: customerFacts(c.customer), expects: 'text', helpKey: key(`${step}.help`) });
}

export function agentTriageView(snapshot: { value: unknown; context: AgentTriageContext }): StepView {
  const step = String(snapshot.value);
  const c = snapshot.context;
  if (Object.hasOwn(INTAKE, step)) return intakeView(step as IntakeStep, c);
  if (step === 'cancelled') {
    return stepView(step, { lines: [line('cancelled')], choices: [option('cmd.restart', 'startOver')], helpKey: key('customerName.help') });
  }
  if (step === 'handOff') {
    // Only seen if the troubleshooting flow is not configured: the engine hands over at once otherwise.
    return stepView(step, { lines: [line('handOff')], facts: customerFacts(c.customer), helpKey: key('customerName.help') });
  }
  throw new Error(`agent-triage: unknown step "${step}"`);
}
