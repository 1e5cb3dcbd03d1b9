/**
 * Reads a V8 `.cpuprofile` (from `npm run bench -- --profile`, i.e. `node --cpu-prof`) and prints
 * where the time went: the top functions by self time, and self time summed per package / source
 * file, plus inclusive time of the product's own functions. Output is plain text for the report.
 *
 * Usage: tsx bench/profile-summary.ts bench-results/profiles/<file>.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
type Profile = z.infer<typeof profileSchema>;

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  topSelf: { name: string; where: string; ms: number; pct: number }[];
  byArea: { area: string; ms: number; pct: number }[];
  topInclusive: { name: string; where: string; ms: number; pct: number }[];
}

/** `node_modules/kysely/...` → `kysely`; `/src/engine/engine.ts` → `src/engine/engine.ts`. */
export function areaOf(url: string): string {
  if (!url) return '(native/V8)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (path.startsWith('node:')) return path;
  const m = /\/(src|dialogs|bench)\/(.*)$/.exec(path);
  return m ? `${m[1]}/${m[2]}` : path;
}

/**
 * The bundle `npm start` runs (dist/index.cjs; dist/index.mjs before) holds the dependencies too;
 * esbuild marks where each source file begins (`// node_modules/kysely/…`, `// src/engine/turn.ts`),
 * so a frame in it is credited to the file it came from, as if the bot ran unbundled.
 */
function unbundle(profile: Profile): void {
  const sections = new Map<string, { line: number; path: string }[]>();
  const sectionsOf = (file: string) => {
    let found = sections.get(file);
    if (!found) {
      found = [];
      try {
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((text, line) => {
            const m = /^\/\/ ((?:node_modules|src|dialogs)\/\S+)$/.exec(text);
            if (m) found!.push({ line, path: m[1]! });
          });
      } catch {
        // No bundle to read: frames keep the bundle's name.
      }
      sections.set(file, found);
    }
    return found;
  };
  const root = (file: string) => file.replace(/dist\/[^/]+\.[mc]js$/, '');
  for (const n of profile.nodes) {
    const file = n.callFrame.url.replace(/^file:\/\//, '');
    if (!/\/dist\/[^/]+\.[mc]js$/.test(file)) continue;
    const list = sectionsOf(file);
    let lo = 0;
    let hi = list.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.line <= n.callFrame.lineNumber) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at >= 0) n.callFrame.url = `file://${root(file)}${list[at]!.path}`;
  }
}

export function summariseProfile(profile: Profile, top = 25): ProfileSummary {
  unbundle(profile);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const totalMs = [...self.values()].reduce((a, b) => a + b, 0);
  const label = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return { name: f.functionName || '(anonymous)', where: f.url ? `${areaOf(f.url)}:${f.lineNumber + 1}` : areaOf(f.url) };
  };
  const idleMs = [...self.entries()].filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id)!.callFrame.functionName)).reduce((a, [, v]) => a + v, 0);
  const busy = totalMs - idleMs || 1;
  const pct = (ms: number) => Math.round((ms / busy) * 1000) / 10;

  const selfByFn = new Map<string, { name: string; where: string; ms: number }>();
  const byArea = new Map<string, number>();
  const inclusive = new Map<string, { name: string; where: string; ms: number }>();
  for (const [id, ms] of self) {
    const fn = byId.get(id)!.callFrame.functionName;
    if (fn === '(idle)' || fn === '(program)') continue;
    const l = label(id);
    const key = `${l.name}@${l.where}`;
    selfByFn.set(key, { ...l, ms: (selfByFn.get(key)?.ms ?? 0) + ms });
    const area = areaOf(byId.get(id)!.callFrame.url);
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    // Inclusive time of our own code: charge each distinct own frame on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!/\/(src|dialogs)\//.test(f.url) || f.url.includes('node_modules')) continue;
      const cl = label(cur);
      const ck = `${cl.name}@${cl.where}`;
      if (seen.has(ck)) continue;
      seen.add(ck);
      inclusive.set(ck, { ...cl, ms: (inclusive.get(ck)?.ms ?? 0) + ms });
    }
  }
  const sorted = <T extends { ms: number }>(xs: Iterable<T>) => [...xs].sort((a, b) => b.ms - a.ms).slice(0, top);
  return {
    totalMs,
    idleMs,
    topSelf: sorted(selfByFn.values()).map((x) => ({ ...x, pct: pct(x.ms) })),
    byArea: sorted([...byArea].map(([area, ms]) => ({ area, ms }))).map((x) => ({ ...x, pct: pct(x.ms) })),
    topInclusive: sorted(inclusive.values()).map((x) => ({ ...x, pct: pct(x.ms) })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  if (positionals.length === 0) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  for (const file of positionals) {
    const s = summariseProfile(profileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))), Number(values.top));
    const ms = (v: number) => `${v.toFixed(0).padStart(7)} ms`;
    console.log(`# ${file}\ntotal ${s.totalMs.toFixed(0)} ms, idle/program ${s.idleMs.toFixed(0)} ms; percentages are of busy time\n`);
    console.log('## self time by package / file');
    for (const a of s.byArea) console.log(`${ms(a.ms)} ${String(a.pct).padStart(5)}%  ${a.area}`);
    console.log('\n## top functions by self time');
    for (const f of s.topSelf) console.log(`${ms(f.ms)} ${String(f.pct).padStart(5)}%  ${f.name}  ${f.where}`);
    console.log('\n## our functions by inclusive time');
    for (const f of s.topInclusive) console.log(`${ms(f.ms)} ${String(f.pct).padStart(5)}%  ${f.name}  ${f.where}`);
    console.log('');
  }
}
