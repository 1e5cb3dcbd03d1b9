/**
 * npm run diagram [-- --lang en|uk] [--flow provisioning-contact|support-case|agent-triage|all] [--out docs]
 * Writes a flow, generated from its machine definition itself, as Mermaid text and as an SVG,
 * labelled in the chosen language: docs/flow.<lang>.{mmd,svg} for the troubleshooting flow,
 * docs/<flow>.<lang>.{mmd,svg} for the others. Without --lang both languages are written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { agentTriageFlow } from '../dialogs/agent-triage/machine';
import { LOCALES, type FlowDefinition, type Locale } from '../dialogs/flow';
import { provisioningContactFlow } from '../dialogs/provisioning-contact/machine';
import { supportCaseFlow } from '../dialogs/support-case/index';
import { renderSvg, toDot, toMermaid } from '../src/funnel/diagram';
import { flowGraph, sampleFlowInput } from '../src/funnel/flow-graph';
import { createTranslator } from '../src/i18n';

const FLOWS: Record<string, { flow: FlowDefinition; file: string; input?: (locale: Locale) => unknown }> = {
  'provisioning-contact': { flow: provisioningContactFlow, file: 'flow' },
  'support-case': { flow: supportCaseFlow, file: 'support-case', input: (locale) => ({ flowInput: sampleFlowInput(locale), draft: {} }) },
  'agent-triage': { flow: agentTriageFlow, file: 'agent-triage' },
};

const args = z
  .object({
    lang: z.enum(['en', 'uk']).optional(),
    flow: z.enum(['provisioning-contact', 'support-case', 'agent-triage', 'all']).default('provisioning-contact'),
    out: z.string().default('docs'),
  })
  .parse(parseArgs({ options: { lang: { type: 'string' }, flow: { type: 'string' }, out: { type: 'string' } } }).values);

const translator = createTranslator();
mkdirSync(args.out, { recursive: true });
for (const id of args.flow === 'all' ? Object.keys(FLOWS) : [args.flow]) {
  const { flow, file, input } = FLOWS[id]!;
  for (const locale of args.lang ? [args.lang] : LOCALES) {
    const graph = flowGraph(flow, translator, locale, { input: input?.(locale) });
    const mermaid = join(args.out, `${file}.${locale}.mmd`);
    const svg = join(args.out, `${file}.${locale}.svg`);
    writeFileSync(mermaid, toMermaid(graph, translator, locale));
    writeFileSync(svg, await renderSvg(toDot(graph, translator, locale)));
    console.log(`${relative(process.cwd(), mermaid)}  ${relative(process.cwd(), svg)}  (${graph.nodes.length} states, ${graph.edges.length} transitions)`);
  }
}
