/**
 * npm run diagram [-- --lang en|uk] [--out docs]
 * Writes the troubleshooting flow, generated from the machine definition itself, as Mermaid text
 * (docs/flow.<lang>.mmd) and as an SVG (docs/flow.<lang>.svg), labelled in the chosen language.
 * Without --lang both languages are written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LOCALES } from '../dialogs/flow';
import { provisioningContactFlow } from '../dialogs/provisioning-contact/machine';
import { toDot, toMermaid, renderSvg } from '../src/funnel/diagram';
import { flowGraph } from '../src/funnel/flow-graph';
import { createTranslator } from '../src/i18n';

const args = z
  .object({
    lang: z.enum(['en', 'uk']).optional(),
    out: z.string().default('docs'),
  })
  .parse(parseArgs({ options: { lang: { type: 'string' }, out: { type: 'string' } } }).values);

const translator = createTranslator();
mkdirSync(args.out, { recursive: true });
for (const locale of args.lang ? [args.lang] : LOCALES) {
  const graph = flowGraph(provisioningContactFlow, translator, locale);
  const mermaid = join(args.out, `flow.${locale}.mmd`);
  const svg = join(args.out, `flow.${locale}.svg`);
  writeFileSync(mermaid, toMermaid(graph, translator, locale));
  writeFileSync(svg, await renderSvg(toDot(graph, translator, locale)));
  console.log(`${relative(process.cwd(), mermaid)}  ${relative(process.cwd(), svg)}  (${graph.nodes.length} states, ${graph.edges.length} transitions)`);
}
