/**
 * Issue 20: the page serves the Web Chat bundle kept in the repository, byte for byte the one taken
 * from the npm registry (`npm run webchat:bundle`), with the licences of what it bundles beside it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { webChatBundlePath } from '../../../src/channels/directline/page';

const dir = dirname(webChatBundlePath());
const record = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8')) as { package: string; version: string; sha256: Record<string, string> };

describe('the Web Chat bundle the page serves', () => {
  it('is the recorded file of the botframework-webchat package, with its licences', () => {
    expect(record.package).toBe('botframework-webchat');
    expect(Object.keys(record.sha256).sort()).toEqual(['webchat.js', 'webchat.js.LICENSE.txt']);
    for (const [file, sha256] of Object.entries(record.sha256)) {
      expect(createHash('sha256').update(readFileSync(join(dir, file))).digest('hex'), file).toBe(sha256);
    }
  });
});
