/**
 * The rules that keep a move off the archived Bot Framework SDK a one-folder change, and the
 * environment read in one place.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js|mjs)$/.test(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    // Third-party files kept as published (the Web Chat bundle) are not ours to hold to these rules.
    .filter((file) => !file.split('/').includes('vendor'));
}

const product = [...sources('src'), ...sources('dialogs'), ...sources('scripts')];

describe('architecture', () => {
  it('imports botbuilder (any botbuilder* or botframework-* SDK package) only in src/channels/botframework/', () => {
    const offenders = product.filter(
      (file) =>
        !file.startsWith('src/channels/botframework/') &&
        /(from\s+|import\s*\(\s*|require\s*\(\s*)['"](botbuilder|botframework-connector|botframework-schema)/.test(readFileSync(join(root, file), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('reads process.env only in src/config.ts', () => {
    const offenders = product.filter((file) => file !== 'src/config.ts' && /process\.env\b/.test(readFileSync(join(root, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('keeps src/storage/ free of features: it imports nothing from cases, channels, engine or any other area', () => {
    // Storage knows transactions, dialects and migrations; features own their tables and register
    // their turn writers with the store. Besides its own files it may use the logger, the config's
    // type and the flows' Locale.
    const allowed = new Set(['src/log.ts', 'src/config.ts', 'dialogs/flow.ts']);
    const storage = product.filter((file) => file.startsWith('src/storage/'));
    const offenders = storage.flatMap((file) =>
      [...readFileSync(join(root, file), 'utf8').matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)]
        .map((m) => relative(root, join(root, dirname(file), m[1]!)).replace(/(\.ts)?$/, '.ts'))
        .filter((target) => !target.startsWith('src/storage/') && !allowed.has(target))
        .map((target) => `${file} → ${target}`),
    );
    expect(storage.length).toBeGreaterThan(15);
    expect(offenders).toEqual([]);
  });

  it('finds the files it checks', () => {
    expect(product).toContain('src/channels/botframework/index.ts');
    expect(product.length).toBeGreaterThan(40);
  });
});
