import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AnyStateNode } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { FlowDefinition } from '../../dialogs/flow';
import { provisioningContactFlow } from '../../dialogs/provisioning-contact/machine';
import { renderSvg, toDot, toMermaid } from '../../src/funnel/diagram';
import { flowGraph } from '../../src/funnel/flow-graph';
import { createTranslator, loadResources } from '../../src/i18n';
import { testDir } from '../support';

const translator = createTranslator();

/** Every state of a flow's machine, read independently of the code under test. */
function machineStates(flow: FlowDefinition = provisioningContactFlow): string[] {
  const out: string[] = [];
  const walk = (node: AnyStateNode) => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      out.push(child.path.join('.'));
      walk(child);
    }
  };
  walk(flow.machine.root as AnyStateNode);
  return out;
}

describe('the flow diagram', () => {
  const states = machineStates();

  it.each(['en', 'uk'] as const)('holds every state of the machine in Mermaid and in the SVG (%s)', async (locale) => {
    const graph = flowGraph(provisioningContactFlow, translator, locale);
    const mermaid = toMermaid(graph, translator, locale);
    const svg = await renderSvg(toDot(graph, translator, locale));
    expect(states.length).toBeGreaterThan(1);
    expect(graph.nodes.map((n) => n.id).sort()).toEqual([...states].sort());
    for (const state of states) {
      expect(mermaid).toMatch(new RegExp(`\\bs_${state.replace(/\W/g, '_')}[\\[(]`));
      // Graphviz writes each node's name as its <title>.
      expect(svg).toContain(`<title>${state}</title>`);
    }
    expect(svg.startsWith('<?xml') || svg.startsWith('<svg')).toBe(true);
  });

  it('draws every transition the machine defines, from its source to its target', () => {
    const graph = flowGraph(provisioningContactFlow, translator, 'en');
    const expected = new Set<string>();
    const walk = (node: AnyStateNode) => {
      for (const child of Object.values(node.states) as AnyStateNode[]) {
        for (const [, list] of child.transitions) {
          for (const tr of list) for (const target of tr.target ?? []) expected.add(`${child.path.join('.')}->${target.path.join('.')}`);
        }
        walk(child);
      }
    };
    walk(provisioningContactFlow.machine.root as AnyStateNode);
    const drawn = new Set(graph.edges.filter((e) => !e.from.startsWith('__')).map((e) => `${e.from}->${e.to}`));
    expect(drawn).toEqual(expected);
  });

  it('labels the nodes in the chosen language, from locales', () => {
    const en = flowGraph(provisioningContactFlow, translator, 'en');
    const uk = flowGraph(provisioningContactFlow, translator, 'uk');
    const initial = en.nodes.find((n) => n.initial)!;
    for (const node of [...en.nodes, ...uk.nodes]) expect(node.label).not.toBe('');
    expect(uk.nodes.find((n) => n.id === initial.id)!.label).not.toBe(initial.label);
    expect(toMermaid(uk, translator, 'uk')).toContain(translator.t('uk', 'diagram:start'));
    expect(toMermaid(en, translator, 'en')).toContain(translator.t('en', 'diagram:start'));
  });

  it('has the same diagram strings in English and Ukrainian', () => {
    const resources = loadResources();
    const keys = (o: unknown, prefix = ''): string[] =>
      Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => (typeof v === 'object' && v ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
    expect(keys(resources.uk.diagram).sort()).toEqual(keys(resources.en.diagram).sort());
  });

  it('npm run diagram writes Mermaid and SVG files for the chosen language', async () => {
    const out = testDir('diagram-').path;
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/diagram.ts', '--lang', 'uk', '--out', out], { cwd: process.cwd() });
    const mermaid = readFileSync(join(out, 'flow.uk.mmd'), 'utf8');
    const svg = readFileSync(join(out, 'flow.uk.svg'), 'utf8');
    expect(mermaid.startsWith('flowchart TD')).toBe(true);
    expect(svg).toContain('</svg>');
    for (const state of states) expect(svg).toContain(`<title>${state}</title>`);
    expect(svg).toContain(translator.t('uk', 'diagram:start'));
  });
});

describe('the committed picture', () => {
  it.each(['en', 'uk'] as const)('docs/flow.%s.{mmd,svg} and the README hold every state of the machine (regenerate with npm run diagram)', (locale) => {
    const mermaid = readFileSync(join('docs', `flow.${locale}.mmd`), 'utf8');
    const svg = readFileSync(join('docs', `flow.${locale}.svg`), 'utf8');
    const readme = readFileSync('README.md', 'utf8');
    for (const state of machineStates()) {
      expect(mermaid).toContain(`s_${state.replace(/\W/g, '_')}`);
      expect(svg).toContain(`<title>${state}</title>`);
      if (locale === 'en') expect(readme).toContain(`s_${state.replace(/\W/g, '_')}`);
    }
    expect(readme).toContain(`docs/flow.${locale}.svg`);
  });
});

describe('pictures of the other flows', () => {
  it.each(['support-case', 'agent-triage'] as const)('npm run diagram --flow %s holds every state of that machine', async (flowId) => {
    const { agentTriageFlow } = await import('../../dialogs/agent-triage/machine');
    const { supportCaseFlow } = await import('../../dialogs/support-case/index');
    const states = machineStates(flowId === 'support-case' ? supportCaseFlow : agentTriageFlow);
    const out = testDir('diagram-flow-').path;
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/diagram.ts', '--flow', flowId, '--lang', 'en', '--out', out]);
    const svg = readFileSync(join(out, `${flowId}.en.svg`), 'utf8');
    const mermaid = readFileSync(join(out, `${flowId}.en.mmd`), 'utf8');
    for (const state of states) {
      expect(svg).toContain(`<title>${state}</title>`);
      expect(mermaid).toContain(`s_${state.replace(/\W/g, '_')}`);
    }
  });
});
