import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIALOGS = resolve(__dirname, '../../dialogs');

describe('dialogs/ stays pure', () => {
  const files = readdirSync(DIALOGS, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));

  it.each(files.map((f) => [f]))('%s imports nothing but xstate, zod and dialogs/ files', (file) => {
    const source = readFileSync(join(DIALOGS, file), 'utf8');
    const specifiers = [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
    for (const spec of specifiers) {
      if (spec.startsWith('.')) expect(resolve(DIALOGS, file, '..', spec).startsWith(DIALOGS), `${file}: ${spec}`).toBe(true);
      else expect(['xstate', 'zod'], `${file}: ${spec}`).toContain(spec);
    }
    expect(source).not.toMatch(/process\.env|Date\.now\(|new Date\(|Math\.random\(/);
  });
});
