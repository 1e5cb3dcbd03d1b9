/**
 * The rules that keep a move off the archived Bot Framework SDK a one-folder change, and the
 * environment read in one place.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js|mjs)$/.test(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)));
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

  it('finds the files it checks', () => {
    expect(product).toContain('src/channels/botframework/index.ts');
    expect(product.length).toBeGreaterThan(40);
  });
});
