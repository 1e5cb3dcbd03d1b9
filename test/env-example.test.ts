/** .env.example is where operators learn every variable: each one the config reads must be there. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config';

const example = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '.env.example'), 'utf8');

describe('.env.example', () => {
  it.each(Object.keys(configSchema.shape))('documents %s', (name) => {
    expect(example).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });
});
