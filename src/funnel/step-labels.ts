/**
 * Readable names of the steps a report counts, from every flow a conversation can pass through,
 * read from the machines themselves (flow-graph.ts), so a renamed question is renamed here too.
 */
import { agentTriageFlow } from '../../dialogs/agent-triage/machine';
import type { Locale } from '../../dialogs/flow';
import { provisioningContactFlow } from '../../dialogs/provisioning-contact/machine';
import { supportCaseFlow } from '../../dialogs/support-case/index';
import type { Translator } from '../i18n';
import { flowGraph, sampleFlowInput } from './flow-graph';

export type StepLabel = (step: string) => string | undefined;

function labelsOf(translator: Translator, locale: Locale): Map<string, string> {
  const graphs = [
    flowGraph(supportCaseFlow, translator, locale, { input: { flowInput: sampleFlowInput(locale), draft: {} } }),
    flowGraph(agentTriageFlow, translator, locale),
    // Last: the guide's own name wins where a step id is shared.
    flowGraph(provisioningContactFlow, translator, locale),
  ];
  return new Map(graphs.flatMap((g) => g.nodes.map((n) => [n.id, n.label] as const)));
}

/** Step names per language, worked out once each (walking the machines is not free; the server asks often). */
export function stepLabels(translator: Translator): (locale: Locale) => StepLabel {
  const cache = new Map<Locale, Map<string, string>>();
  return (locale) => {
    let labels = cache.get(locale);
    if (!labels) cache.set(locale, (labels = labelsOf(translator, locale)));
    return (step) => labels.get(step);
  };
}
