/**
 * The bundle `npm start` runs (scripts/build.mjs, scripts/start.mjs): rebuilt when a source it was
 * made from changes, not otherwise, and what must stay out of it (native addons, what only some
 * set-ups load) is left to node_modules. Its code cache: test/server/code-cache.test.ts.
 */
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript build script, no types
import { build, OUTFILE, upToDate, writeStamp } from '../../scripts/build.mjs';
import { testDir } from '../support';

describe('the bundle npm start runs', () => {
  it('counts as fresh only while its sources, npm\'s record of node_modules and the build script are as they were', () => {
    // A checkout of its own, so that bots other tests start (which rebuild when they must) never see it change.
    const root = `${testDir('bundle-root').path}/`;
    for (const dir of ['dist', 'src', 'node_modules', 'scripts']) mkdirSync(join(root, dir), { recursive: true });
    const files = { 'dist/index.cjs': 'bundle', 'src/a.ts': 'export {}', 'node_modules/.package-lock.json': '{}', 'scripts/build.mjs': '//' };
    // Whole seconds, so that a time set back is exactly the time recorded.
    const at = new Date('2026-12-01T10:00:00Z');
    for (const [file, text] of Object.entries(files)) {
      writeFileSync(join(root, file), text);
      utimesSync(join(root, file), at, at);
    }
    expect(upToDate(root)).toBe(false); // never built
    writeStamp(['src/a.ts'], root);
    expect(upToDate(root)).toBe(true);
    for (const file of ['src/a.ts', 'node_modules/.package-lock.json', 'scripts/build.mjs']) {
      const path = join(root, file);
      utimesSync(path, at, new Date(at.getTime() + 5_000));
      expect(upToDate(root), file).toBe(false);
      utimesSync(path, at, at);
      expect(upToDate(root), file).toBe(true);
    }
    writeFileSync(join(root, 'src/a.ts'), 'export const changed = 1;');
    expect(upToDate(root)).toBe(false);
  });

  it('is built fresh, leaving native addons and the set-up-specific packages to node_modules', { timeout: 60_000 }, async () => {
    const dist = join(OUTFILE as string, '..');
    // A code cache of an earlier build, and the ES module bundle of the builds before those.
    writeFileSync(join(dist, 'index.cjs.00000000-0000-0000-0000-000000000000.v8cache'), 'stale');
    writeFileSync(join(dist, 'index.mjs'), 'export {}');
    await build();
    expect(upToDate()).toBe(true);
    const bundle = readFileSync(OUTFILE as string, 'utf8');
    // The build named first for its code cache, then strict mode for all of it (scripts/run-bundle.mjs).
    expect(bundle).toMatch(/^\/\* build [0-9a-f-]{36} \*\/ "use strict";/);
    expect(bundle).toContain('require("better-sqlite3")');
    // Vega and nodemailer are imported by name on first use (src/import-package.ts): none of their code is bundled.
    expect(bundle).not.toMatch(/^\/\/ node_modules\/(vega|nodemailer)/m);
    // botbuilder itself is bundled: no import of it is left for node_modules.
    expect(bundle).not.toMatch(/from "botbuilder"|require\("botbuilder"\)/);
    expect(readdirSync(dist).filter((f) => f.endsWith('.v8cache') || f.startsWith('index.mjs'))).toEqual([]);
  });
});
