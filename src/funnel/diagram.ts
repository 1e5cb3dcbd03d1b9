/**
 * Renders a FlowGraph as Mermaid text and as Graphviz DOT, and DOT as SVG (@viz-js/viz, Graphviz
 * compiled to WebAssembly: no system binary, no network).
 */
import { instance } from '@viz-js/viz';
import type { Locale } from '../../dialogs/flow';
import type { Translator } from '../i18n';
import { ANY_STEP, type FlowGraph, type GraphNode } from './flow-graph';

type Tone = 'resolved' | 'redirected' | 'case' | 'question';

function toneOf(node: GraphNode): Tone {
  switch (node.outcome) {
    case 'resolved':
      return 'resolved';
    case 'redirected_admin':
    case 'forwarded_to_owner':
      return 'redirected';
    case 'needs_case':
    case 'case_opened':
      return 'case';
    default:
      return 'question';
  }
}

const COLOURS: Record<Tone, { fill: string; stroke: string }> = {
  resolved: { fill: '#dcfce7', stroke: '#15803d' },
  redirected: { fill: '#dbeafe', stroke: '#1d4ed8' },
  case: { fill: '#ffedd5', stroke: '#c2410c' },
  question: { fill: '#f8fafc', stroke: '#475569' },
};

/** Mermaid node ids: letters, digits and _ only. */
function mermaidId(id: string): string {
  return id === ANY_STEP ? 'any_step' : `s_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Mermaid label text inside "…": quotes and markup characters as entities. */
function mermaidText(text: string): string {
  return text.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

export function toMermaid(graph: FlowGraph, translator: Translator, locale: Locale): string {
  const t = (key: string) => translator.t(locale, `diagram:${key}`);
  const lines = ['flowchart TD', `  start(("${mermaidText(t('start'))}"))`];
  for (const node of graph.nodes) {
    if (node.type === 'compound' || node.type === 'parallel') continue;
    const label = mermaidText(`${node.label}`);
    const id = mermaidId(node.id);
    lines.push(node.type === 'final' || node.outcome ? `  ${id}(["${label}"])` : `  ${id}["${label}"]`);
  }
  if (graph.edges.some((e) => e.from === ANY_STEP)) lines.push(`  ${mermaidId(ANY_STEP)}{{"${mermaidText(t('anyStep'))}"}}`);
  for (const node of graph.nodes.filter((n) => n.initial && n.type !== 'compound')) lines.push(`  start --> ${mermaidId(node.id)}`);
  for (const edge of graph.edges) {
    const arrow = edge.from === ANY_STEP ? '-.->' : '-->';
    lines.push(`  ${mermaidId(edge.from)} ${arrow}|"${mermaidText(edge.label)}"| ${mermaidId(edge.to)}`);
  }
  for (const tone of Object.keys(COLOURS) as Tone[]) {
    lines.push(`  classDef ${tone} fill:${COLOURS[tone].fill},stroke:${COLOURS[tone].stroke},color:#0f172a`);
    const ids = graph.nodes.filter((n) => n.type !== 'compound' && toneOf(n) === tone).map((n) => mermaidId(n.id));
    if (ids.length) lines.push(`  class ${ids.join(',')} ${tone}`);
  }
  return lines.join('\n') + '\n';
}

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Wraps a label to lines of about `width` characters so Graphviz boxes stay narrow. */
function wrap(text: string, width = 28): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

export function toDot(graph: FlowGraph, translator: Translator, locale: Locale): string {
  const t = (key: string) => translator.t(locale, `diagram:${key}`);
  const title = translator.has(locale, `diagram:titles.${graph.flowId}`) ? t(`titles.${graph.flowId}`) : t('title');
  const out = [
    'digraph flow {',
    `  graph [rankdir=TB, fontname="DejaVu Sans", fontsize=16, labelloc=t, label=${dotString(title)}, nodesep=0.35, ranksep=0.45];`,
    '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans", fontsize=11, margin="0.15,0.07"];',
    '  edge [fontname="DejaVu Sans", fontsize=9, color="#64748b", fontcolor="#334155"];',
    `  start [shape=circle, label=${dotString(t('start'))}, fillcolor="#0f172a", fontcolor="#ffffff", fontsize=9, width=0.6, fixedsize=true];`,
  ];
  for (const node of graph.nodes) {
    if (node.type === 'compound' || node.type === 'parallel') continue;
    const { fill, stroke } = COLOURS[toneOf(node)];
    const shape = node.type === 'final' || node.outcome ? ', peripheries=2' : '';
    out.push(`  ${dotString(node.id)} [label=${dotString(`${wrap(node.label)}\n[${node.id}]`)}, fillcolor="${fill}", color="${stroke}"${shape}];`);
  }
  if (graph.edges.some((e) => e.from === ANY_STEP)) {
    out.push(`  ${dotString(ANY_STEP)} [shape=hexagon, style="dashed", label=${dotString(wrap(t('anyStep'), 24))}];`);
  }
  for (const node of graph.nodes.filter((n) => n.initial && n.type !== 'compound')) out.push(`  start -> ${dotString(node.id)};`);
  for (const edge of graph.edges) {
    const style = edge.from === ANY_STEP ? ', style=dashed' : '';
    out.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)} [label=${dotString(wrap(edge.label, 26))}${style}];`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

export async function renderSvg(dot: string): Promise<string> {
  const viz = await instance();
  return viz.renderString(dot, { format: 'svg', engine: 'dot' });
}
