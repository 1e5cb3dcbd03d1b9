/**
 * The bundle `npm start` runs (scripts/build.mjs, scripts/start.mjs): rebuilt when a source it was
 * made from changes, not otherwise, and what must stay out of it (native addons, what only some
 * set-ups load) is left to node_modules.
 */
import { readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript build script, no types
import { build, OUTFILE, upToDate } from '../../scripts/build.mjs';

const ROOT = join(__dirname, '..', '..');

describe('the bundle npm start runs', () => {
  it('is rebuilt only when a source it was made from changed', { timeout: 60_000 }, async () => {
    await build();
    expect(upToDate()).toBe(true);
    const source = join(ROOT, 'src', 'root.ts');
    const { atime, mtime } = statSync(source);
    try {
      utimesSync(source, atime, new Date(mtime.getTime() + 5_000));
      expect(upToDate()).toBe(false);
    } finally {
      utimesSync(source, atime, mtime);
    }
    expect(upToDate()).toBe(true);
  });

  it('leaves native addons and the set-up-specific packages to node_modules', () => {
    const bundle = readFileSync(OUTFILE as string, 'utf8');
    expect(bundle).toMatch(/from "better-sqlite3"|require\("better-sqlite3"\)/);
    expect(bundle).toContain('import("nodemailer")');
    expect(bundle).toContain('import("vega")');
    // botbuilder itself is bundled: no import of it is left for node_modules.
    expect(bundle).not.toMatch(/from "botbuilder"|require\("botbuilder"\)/);
  });
});
