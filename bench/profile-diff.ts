/**
 * Where one bot spends more CPU per turn than another, from two `npm run bench -- --profile` runs:
 * self time per function, divided by the turns each served, minus the other's, largest first.
 * Stacks under start-up work (createApplication, the recogniser's background training) are left out,
 * since they are not turn cost.
 *
 *   npx tsx bench/profile-diff.ts <profile dir A> <turns A> <profile dir B> <turns B> [rows]
 *
 * The profile dirs are bench-results/profiles/<run>-<label>-<n>; the turns are in the bench's round
 * lines ("(10924 turns, …)").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber?: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const START_UP = new Set(['warmUp', 'shared', 'createApplication']);

function perTurn(dir: string, turns: number): Map<string, number> {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const startUp = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if (START_UP.has(byId.get(cur)!.callFrame.functionName)) return true;
    }
    return false;
  };
  // An anonymous function (a writer's closure in the bundle) by its line and the first named function
  // above it: otherwise every closure of the bundle is one row. Lines match only within one build.
  const anonymous = (n: ProfileNode): string => {
    let caller = '';
    for (let cur = parent.get(n.id); cur !== undefined && !caller; cur = parent.get(cur)) caller = byId.get(cur)!.callFrame.functionName;
    return `(anonymous, line ${n.callFrame.lineNumber ?? '?'}, in ${caller || '?'})`;
  };
  const out = new Map<string, number>();
  for (const n of p.nodes) {
    const us = self.get(n.id) ?? 0;
    if (!us || n.callFrame.functionName === '(idle)' || startUp(n.id)) continue;
    const where = n.callFrame.url.replace(/.*\/(src|node_modules|dialogs)\//, '$1/');
    const key = `${where} ${n.callFrame.functionName || anonymous(n)}`.trim();
    out.set(key, (out.get(key) ?? 0) + us / turns);
  }
  return out;
}

const [dirA, turnsA, dirB, turnsB, rows = '25'] = process.argv.slice(2);
if (!dirA || !turnsA || !dirB || !turnsB) {
  console.error('usage: npx tsx bench/profile-diff.ts <profile dir A> <turns A> <profile dir B> <turns B> [rows]');
  process.exit(2);
}
const a = perTurn(dirA, Number(turnsA));
const b = perTurn(dirB, Number(turnsB));
const total = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);
console.log(`busy µs per turn (start-up excluded): A ${total(a).toFixed(0)}, B ${total(b).toFixed(0)}`);
const diff = [...new Set([...a.keys(), ...b.keys()])].map((k) => [k, (a.get(k) ?? 0) - (b.get(k) ?? 0)] as const);
diff.sort((x, y) => y[1] - x[1]);
for (const [k, v] of diff.slice(0, Number(rows))) console.log(`${v.toFixed(2).padStart(8)} µs  ${k}`);
