import { describe, expect, it } from 'vitest';
import { rewriteSpecifiers } from '../../bench/lib/compiled';

describe('compiled output made runnable by plain node', () => {
  const files: Record<string, string> = { './app': './app.js', '../storage': '../storage/index.js', './x/': './x/index.js' };
  it('gives extensionless relative imports their file, and leaves packages and files with extensions alone', () => {
    const code = [
      "import { createApplication } from './app';",
      "export { Store } from '../storage';",
      "import './x/';",
      "const m = await import('./app');",
      "import pino from 'pino';",
      "import data from './data.json' with { type: 'json' };",
      "import { a } from './already.js';",
      "import { b } from './missing';",
    ].join('\n');
    const r = rewriteSpecifiers(code, (spec) => files[spec]);
    expect(r.code.split('\n')).toEqual([
      "import { createApplication } from './app.js';",
      "export { Store } from '../storage/index.js';",
      "import './x/index.js';",
      "const m = await import('./app.js');",
      "import pino from 'pino';",
      "import data from './data.json' with { type: 'json' };",
      "import { a } from './already.js';",
      "import { b } from './missing';",
    ]);
    expect(r.rewritten).toBe(4);
    expect(r.unresolved).toEqual(['./missing']);
  });
});
