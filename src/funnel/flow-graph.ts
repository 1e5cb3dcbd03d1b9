/**
 * A flow's structure read from its machine definition (`machine.root` and every state node's
 * transitions), never drawn by hand: the diagram and the report's step names come from here.
 * Node labels come from locales: a short name in locales/<lng>/diagram.json when there is one,
 * otherwise the step's own first line from the flow's view, shortened.
 */
import { createActor, type AnyStateMachine, type AnyStateNode } from 'xstate';
import type { FlowDefinition, FlowInput, Locale, StepView } from '../../dialogs/flow';
import type { Translator } from '../i18n';

export interface GraphNode {
  /** The state's path joined with `.` (top-level states: the step name the view reports). */
  id: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial: boolean;
  /** The outcome the view reports at this state, if any. */
  outcome?: string;
  label: string;
}

export interface GraphEdge {
  /** A node id, or ANY_STEP for transitions the machine accepts at every step. */
  from: string;
  to: string;
  label: string;
}

export interface FlowGraph {
  flowId: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const ANY_STEP = '__any_step__';

/** A FlowInput good enough to compute a flow's initial context for labelling. */
export function sampleFlowInput(locale: Locale): FlowInput {
  return { locale, channel: 'diagram', user: { id: 'diagram' }, mode: 'self', startedAt: '2026-01-01T00:00:00.000Z' };
}

type Guard = unknown;

/** Choice ids and guard names a guard tests, through `and`/`or`/`not`. */
function guardParts(guard: Guard): { choices: string[]; names: string[] } {
  const out = { choices: [] as string[], names: [] as string[] };
  const visit = (g: Guard) => {
    if (!g) return;
    if (typeof g === 'string') {
      out.names.push(g);
    } else if (typeof g === 'function') {
      const nested = (g as { guards?: Guard[] }).guards;
      if (Array.isArray(nested)) nested.forEach(visit);
      else if (g.name) out.names.push(g.name);
    } else if (typeof g === 'object') {
      const { type, params } = g as { type?: string; params?: Record<string, unknown> };
      if (typeof params?.choice === 'string') out.choices.push(params.choice);
      else if (type) out.names.push(type);
    }
  };
  visit(guard);
  return out;
}

function shorten(text: string, max = 56): string {
  const firstSentence = text.split(/(?<=[.?!:])\s|\n/)[0] ?? text;
  const clean = firstSentence.replace(/\*\*|__|`/g, '').trim();
  return clean.length > max ? `${clean.slice(0, max - 1).trimEnd()}…` : clean;
}

function allNodes(root: AnyStateNode): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  const walk = (node: AnyStateNode) => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

function valueOf(path: string[]): unknown {
  return path.reduceRight<unknown>((inner, key) => (inner === undefined ? key : { [key]: inner }), undefined);
}

export interface FlowGraphOptions {
  /** The flow's input, for its initial context (default: a sample FlowInput). */
  input?: unknown;
}

export function flowGraph(flow: FlowDefinition, translator: Translator, locale: Locale, opts: FlowGraphOptions = {}): FlowGraph {
  const machine = flow.machine as AnyStateMachine;
  const context = createActor(machine, { input: opts.input ?? sampleFlowInput(locale) }).getSnapshot().context;
  const t = (key: string, params?: Record<string, unknown>) => translator.t(locale, key, params);
  const views = new Map<string, StepView | undefined>();

  const viewAt = (node: AnyStateNode): StepView | undefined => {
    const id = node.path.join('.');
    if (!views.has(id)) {
      try {
        views.set(id, flow.view(machine.resolveState({ value: valueOf(node.path) as never, context }) as never));
      } catch {
        views.set(id, undefined); // a state the view cannot show on its own (e.g. needs collected data)
      }
    }
    return views.get(id);
  };

  const labelOf = (node: AnyStateNode): string => {
    const id = node.path.join('.');
    const short = `diagram:${flow.id}.${id}`;
    if (translator.has(locale, short)) return t(short);
    const line = viewAt(node)?.lines[0];
    return line ? shorten(t(line.key, line.params)) || id : id;
  };

  const choiceLabel = (source: AnyStateNode | undefined, choice: string): string => {
    const offered = source ? viewAt(source)?.choices.find((c) => c.id === choice) : undefined;
    if (offered) return shorten(t(offered.labelKey, offered.params), 40);
    const known = `diagram:choice.${choice}`;
    return translator.has(locale, known) ? t(known) : choice;
  };

  const eventLabel = (eventType: string): string => {
    const kind = eventType.startsWith('xstate.done.') ? 'done' : eventType.startsWith('xstate.error.') ? 'error' : eventType.startsWith('xstate.after.') ? 'after' : eventType;
    const key = `diagram:event.${kind}`;
    return translator.has(locale, key) ? t(key) : eventType;
  };

  const nodes: GraphNode[] = [];
  const edges = new Map<string, GraphEdge>();
  /** Per edge, what takes it grouped by the conditions it needs: "A / B / C + a fix not tried yet". */
  const ways = new Map<string, Map<string, string[]>>();
  const addEdge = (from: string, to: string, what: string[], conditions: string[] = []) => {
    const key = `${from}->${to}`;
    if (!edges.has(key)) edges.set(key, { from, to, label: '' });
    let byCondition = ways.get(key);
    if (!byCondition) ways.set(key, (byCondition = new Map()));
    const condition = conditions.join(' + ');
    const list = byCondition.get(condition) ?? [];
    for (const w of what) if (!list.includes(w)) list.push(w);
    byCondition.set(condition, list);
    edges.get(key)!.label = [...byCondition]
      .map(([c, whats]) => (whats.length ? [whats.join(' / '), ...(c ? [c] : [])].join(' + ') : c))
      .join(' / ');
  };

  const transitionsOf = (node: AnyStateNode, from: string, source: AnyStateNode | undefined) => {
    for (const [eventType, list] of node.transitions) {
      // "One step back" and "jump back" reach every earlier step: part of the any-step note, not edges.
      if (!source && (eventType === 'BACK' || eventType === 'JUMP')) continue;
      for (const transition of list) {
        for (const target of transition.target ?? []) {
          const { choices, names } = guardParts(transition.guard);
          // At the root, only the commands every step offers (start over, talk to support) are drawn.
          if (!source && eventType === 'CHOOSE' && !choices.some((ch) => ch.startsWith('cmd.'))) continue;
          const conditions = names.map((n) => (translator.has(locale, `diagram:guard.${n}`) ? t(`diagram:guard.${n}`) : n));
          const what = eventType === 'CHOOSE' && choices.length ? choices.map((c) => choiceLabel(source, c)) : [eventLabel(eventType)];
          addEdge(from, target.path.join('.'), what, conditions);
        }
      }
    }
    for (const transition of node.always ?? []) {
      const { names } = guardParts(transition.guard);
      const conditions = names.map((n) => (translator.has(locale, `diagram:guard.${n}`) ? t(`diagram:guard.${n}`) : n));
      for (const target of transition.target ?? []) addEdge(from, target.path.join('.'), conditions.length ? [] : [eventLabel('always')], conditions);
    }
  };

  const root = machine.root as AnyStateNode;
  const initialIds = new Set<string>();
  for (let n: AnyStateNode | undefined = root; n; ) {
    const target: AnyStateNode | undefined = n.type === 'compound' ? n.initial.target[0] : undefined;
    if (target) initialIds.add(target.path.join('.'));
    n = target;
  }

  for (const node of allNodes(root)) {
    const id = node.path.join('.');
    const view = node.type === 'atomic' || node.type === 'final' ? viewAt(node) : undefined;
    nodes.push({ id, type: node.type, initial: initialIds.has(id), ...(view?.outcome ? { outcome: view.outcome } : {}), label: labelOf(node) });
    transitionsOf(node, id, node);
  }
  transitionsOf(root, ANY_STEP, undefined);

  return { flowId: flow.id, nodes, edges: [...edges.values()] };
}
