/**
 * The shape of the house (issue 18): no import cycle, small files, no block of code written twice,
 * no least-recently-used map by hand. Checked over `src/` and `dialogs/`; migrations are schema
 * history and may repeat themselves.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const MAX_LINES = 400;
const MIN_REPEATED = 6;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

const files = [...sources('src'), ...sources('dialogs')].sort();
const text = new Map(files.map((f) => [f, readFileSync(join(root, f), 'utf8')]));

/** Relative imports and re-exports of a file (type-only ones too: they tie modules together just the same). */
function importsOf(file: string): string[] {
  const out: string[] = [];
  const spec = /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  for (const m of text.get(file)!.matchAll(spec)) {
    const target = join(dirname(file), (m[1] ?? m[2])!).replace(/\.js$/, '');
    const found = [`${target}.ts`, join(target, 'index.ts'), target].find((p) => text.has(p) || existsSync(join(root, p)));
    if (found && text.has(found)) out.push(found);
  }
  return out;
}

/** Strongly connected components of more than one file (Tarjan), or a file importing itself. */
function cycles(): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

/** A line as the duplicate check reads it; blank, comment, import and punctuation-only lines are passed over. */
function codeLine(line: string): string | undefined {
  const t = line.trim().replace(/\s+/g, ' ');
  if (!t || /^(\/\/|\/\*|\*|\*\/)/.test(t) || /^import\b/.test(t) || /^[\s{}()[\];,.]*$/.test(t)) return undefined;
  return t;
}

/** Runs of MIN_REPEATED code lines that stand, to the letter, in two places. */
function repeatedBlocks(): string[] {
  const seen = new Map<string, string>();
  const out = new Set<string>();
  for (const file of files) {
    if (file.startsWith('src/storage/migrations/')) continue;
    const lines = text
      .get(file)!
      .split('\n')
      .map((l, i) => ({ code: codeLine(l), at: i + 1 }))
      .filter((l): l is { code: string; at: number } => l.code !== undefined);
    let lastEnd = 0;
    for (let i = 0; i + MIN_REPEATED <= lines.length; i++) {
      const run = lines.slice(i, i + MIN_REPEATED);
      const key = run.map((l) => l.code).join('\n');
      const here = `${file}:${run[0]!.at}-${run[MIN_REPEATED - 1]!.at}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, here);
      else if (!(first.startsWith(`${file}:`) && Number(first.split(':')[1]!.split('-')[1]) >= run[0]!.at) && run[0]!.at > lastEnd) {
        out.add(`${here} repeats ${first}`);
        lastEnd = run[MIN_REPEATED - 1]!.at;
      }
    }
  }
  return [...out];
}

describe('structure', () => {
  it('has no import cycle in src/ and dialogs/', () => {
    expect(cycles()).toEqual([]);
  });

  it(`has no source file over ${MAX_LINES} lines`, () => {
    const long = files.map((f) => `${f}: ${text.get(f)!.split('\n').length}`).filter((l) => Number(l.split(': ')[1]) > MAX_LINES);
    expect(long).toEqual([]);
  });

  it(`repeats no block of ${MIN_REPEATED} or more lines (outside migrations)`, () => {
    expect(repeatedBlocks()).toEqual([]);
  });

  it('bounds maps with lru-cache, not by hand', () => {
    const byHand = files.filter((f) => /\.keys\(\)\.next\(\)\.value/.test(text.get(f)!));
    expect(byHand).toEqual([]);
  });

  it('reads the tree it checks', () => {
    expect(files).toContain('src/engine/turn.ts');
    expect(importsOf('src/engine/engine.ts')).toContain('src/engine/turn.ts');
  });
});
