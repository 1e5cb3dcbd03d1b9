import { describe, expect, it } from 'vitest';
import { parseStatusQuestion } from '../../src/cases/status-intent';

describe('parseStatusQuestion', () => {
  it.each([
    ['what is the status of PCE-000123', 'PCE-000123'],
    ['status pce 42?', 'PCE-000042'],
    ['PCE-000007', 'PCE-000007'],
    ['який статус PCE-000123', 'PCE-000123'],
    ['де PCE-000123?', 'PCE-000123'],
    ['що з моїм зверненням PCE-5', 'PCE-000005'],
  ])('reads %s as a question about %s', (text, reference) => {
    expect(parseStatusQuestion(text)).toBe(reference);
  });

  it.each([['my order is 104857391'], ['I mentioned PCE-000123 to my colleague'], ['status of my order']])('leaves "%s" to the flow', (text) => {
    expect(parseStatusQuestion(text)).toBeUndefined();
  });
});
