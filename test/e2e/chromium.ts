/**
 * The browser the web chat tests drive: a Chromium or Chrome already on the machine (playwright-core
 * never downloads one). CHROMIUM_PATH names it; otherwise the first of CANDIDATES on PATH.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/**
 * Headless, as root in CI, and quiet: without the background-networking flags Chromium keeps trying
 * Google's hosts, which a closed network refuses.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The path of the browser, or an error that says what to install or set. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.CHROMIUM_PATH;
  if (named) {
    if (executable(named)) return named;
    throw new Error(`CHROMIUM_PATH=${named} is not an executable file. Point it at Chromium or Chrome, or unset it to search PATH.`);
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of CANDIDATES) {
    for (const dir of dirs) {
      if (executable(join(dir, name))) return join(dir, name);
    }
  }
  throw new Error(
    `No Chromium for the browser tests: none of ${CANDIDATES.join(', ')} is on PATH. ` +
      'Install it (Debian: apt-get install chromium; Ubuntu: apt-get install chromium-browser) ' +
      'or set CHROMIUM_PATH to a Chromium or Chrome executable.',
  );
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
}
