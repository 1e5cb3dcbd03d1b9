/**
 * The strings of case updates (issue 21) in both languages: present for every status, with the same
 * placeholders, and clean by the locale lint (glossary, typography) that proofreads all locales.
 */
import { describe, expect, it } from 'vitest';
import { CASE_UPDATE_STATUSES } from '../../src/cases/updates-repository';
import { caseUpdateLines } from '../../src/cases/update-notices';
import { createTranslator, loadResources } from '../../src/i18n';
import { formatProblems, lintResources, loadGlossary } from '../locale-lint';

const t = createTranslator();

describe('case update strings', () => {
  it('name every status in both languages', () => {
    for (const lng of ['en', 'uk'] as const)
      for (const status of CASE_UPDATE_STATUSES) {
        expect(t.has(lng, `proactive:caseUpdate.statuses.${status}`)).toBe(true);
        expect(t.has(lng, `cases:status.live.${status}`)).toBe(true);
        expect(t.has(lng, `cases:status.historyEntry.${status}`)).toBe(true);
      }
  });

  it('pass the locale lint', () => {
    const problems = lintResources(loadResources(), loadGlossary()).filter((p) => /caseUpdate|status\.(live|history)/.test(p.key));
    expect(formatProblems(problems)).toBe('');
  });

  it('quote the note as written, even when it looks like a placeholder or a nesting', () => {
    const message = 'See {{reference}} and $t(cases:status.notFound) <b>now</b>';
    const lines = caseUpdateLines(t, 'en', { reference: 'PCE-000001', status: 'resolved', message, ticketId: '$t(x) {{y}}' });
    expect(lines).toEqual(['Update on your support case PCE-000001 (ticket $t(x) {{y}}): resolved.', `The support engineer wrote: “${message}”`]);
  });
});
