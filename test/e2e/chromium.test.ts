/**
 * Issue 20: the browser tests find Chromium instead of assuming /usr/bin/chromium, and say what to
 * install when there is none.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findChromium } from './chromium';

let dir: string;

function program(path: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'find-chromium-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('finding the browser for the web chat tests', () => {
  it('takes CHROMIUM_PATH when it names an executable', () => {
    const browser = program(join(dir, 'opt', 'my-chrome'));
    expect(findChromium({ CHROMIUM_PATH: browser, PATH: '' })).toBe(browser);
  });

  it('refuses a CHROMIUM_PATH that is not an executable file, naming it', () => {
    expect(() => findChromium({ CHROMIUM_PATH: join(dir, 'missing'), PATH: '' })).toThrow(/CHROMIUM_PATH=.*missing is not an executable/);
  });

  it('otherwise takes chromium before chromium-browser and google-chrome on PATH', () => {
    program(join(dir, 'b', 'google-chrome'));
    const chromium = program(join(dir, 'c', 'chromium'));
    expect(findChromium({ PATH: [join(dir, 'a'), join(dir, 'b'), join(dir, 'c')].join(delimiter) })).toBe(chromium);
  });

  it('finds google-chrome when it is the only one', () => {
    const chrome = program(join(dir, 'bin', 'google-chrome'));
    expect(findChromium({ PATH: join(dir, 'bin') })).toBe(chrome);
  });

  it('says what to install when there is none', () => {
    writeFileSync(join(dir, 'chromium'), 'not executable');
    expect(() => findChromium({ PATH: dir })).toThrow(/apt-get install chromium.*CHROMIUM_PATH/);
  });
});
