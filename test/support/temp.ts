/** Temp directories that do not outlive the tests that made them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, onTestFinished } from 'vitest';

export interface TempDir {
  readonly path: string;
  /** A path inside it. */
  join(...parts: string[]): string;
  /** Removes it and everything in it (again is harmless). */
  remove(): void;
}

/** A new directory under the OS temp dir; the caller removes it. */
export function tempDir(prefix = 'pce-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, join: (...parts) => join(path, ...parts), remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A new directory for the running test, removed when it finishes (after its `afterEach` hooks, so
 * whatever they close has closed). Call it in a test or a `beforeEach`.
 */
export function testDir(prefix?: string): TempDir {
  const dir = tempDir(prefix);
  onTestFinished(() => dir.remove());
  return dir;
}

/**
 * A temp directory for the tests of the enclosing block: a fresh one for each test (`each`), removed
 * when it finishes, or one for all of them (`all`), removed after the last. Read it inside tests.
 */
export function useTempDir(prefix?: string, scope: 'each' | 'all' = 'each'): TempDir {
  let current: TempDir | undefined;
  if (scope === 'each') {
    beforeEach(() => {
      current = testDir(prefix);
    });
  } else {
    beforeAll(() => {
      current = tempDir(prefix);
    });
    afterAll(() => current?.remove());
  }
  const dir = (): TempDir => {
    if (!current) throw new Error('useTempDir: the directory is made before the tests; use it inside them');
    return current;
  };
  return {
    get path() {
      return dir().path;
    },
    join: (...parts) => dir().join(...parts),
    remove: () => dir().remove(),
  };
}
