/**
 * The checkout's root (the folder of package.json), wherever this module runs from: src/ under the
 * TypeScript loader, dist/ when `npm start` runs the bundle. Files read at run time (locales, the web
 * chat page, card templates) are found from here, so both ways read the same files.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function rootFrom(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) throw new Error(`no package.json above ${dir}`);
  }
}

export const ROOT = rootFrom(dirname(fileURLToPath(import.meta.url)));
