/**
 * Proofreading as a test: the glossary's forbidden variants, Ukrainian typography (’ and «»), single
 * spaces, capitalised paragraphs, and the same placeholders in both languages. The second block
 * plants each defect in a copy of the real locales and proves the lint reports it.
 */
import { describe, expect, it } from 'vitest';
import { loadResources, type Resources } from '../src/i18n';
import { formatProblems, lintResources, lintText, loadGlossary, type Problem } from './locale-lint';

const glossary = loadGlossary();
const resources = loadResources();

/** The real locales with one string replaced. */
function planted(lng: 'en' | 'uk', ns: string, path: string[], text: string): Resources {
  const copy = structuredClone(resources);
  let node = copy[lng][ns] as Record<string, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[path.at(-1)!] = text;
  return copy;
}
const checksAt = (problems: Problem[], key: string) => problems.filter((p) => p.key === key).map((p) => p.check);

describe('locale lint', () => {
  it('reads the glossary: forbidden variants in both languages and the UI labels quoted in Ukrainian', () => {
    expect(glossary.forbidden.uk.length).toBeGreaterThan(40);
    expect(glossary.forbidden.en.length).toBeGreaterThan(10);
    expect(glossary.quotedInUk).toEqual(expect.arrayContaining(['Provisioning Contact Email', 'Awaiting Provisioning Details', 'Closed', 'Open Case']));
  });

  it('finds nothing in the locales', () => {
    expect(formatProblems(lintResources(resources, glossary))).toBe('');
  });
});

describe('locale lint on planted defects', () => {
  const cases: { what: string; lng: 'en' | 'uk'; ns: string; path: string[]; text: string; check: Problem['check'] }[] = [
    { what: 'a forbidden Ukrainian variant', lng: 'uk', ns: 'support-case', path: ['summary', 'edit_subscriptionId'], text: 'Виправити ID підписки', check: 'forbidden' },
    { what: 'a forbidden calque', lng: 'uk', ns: 'support-case', path: ['intro'], text: 'Давайте відкриємо звернення в підтримку.', check: 'forbidden' },
    { what: 'a forbidden English variant', lng: 'en', ns: 'support-case', path: ['summary', 'edit_subscriptionId'], text: 'Correct the subscription id', check: 'forbidden' },
    { what: 'an ASCII apostrophe in a Cyrillic word', lng: 'uk', ns: 'agent', path: ['intake', 'customerName', 'hint'], text: "Введіть ім'я клієнта.", check: 'apostrophe' },
    { what: 'a modifier-letter apostrophe', lng: 'uk', ns: 'agent', path: ['intake', 'customerName', 'hint'], text: 'Введіть імʼя клієнта.', check: 'apostrophe' },
    { what: 'straight quotes in Ukrainian', lng: 'uk', ns: 'agent', path: ['intake', 'cancelled'], text: 'Тріаж скасовано. Напишіть "тріаж", щоб почати знову.', check: 'quotes' },
    { what: 'English curly quotes in Ukrainian', lng: 'uk', ns: 'agent', path: ['intake', 'cancelled'], text: 'Тріаж скасовано. Напишіть “тріаж”, щоб почати знову.', check: 'quotes' },
    { what: 'straight quotes in English', lng: 'en', ns: 'agent', path: ['intake', 'cancelled'], text: 'Triage cancelled. Type "triage" to start again.', check: 'quotes' },
    { what: 'a doubled space', lng: 'en', ns: 'common', path: ['startedAgain'], text: "Let's  start over.", check: 'spaces' },
    { what: 'a lowercase paragraph', lng: 'en', ns: 'provisioning-contact', path: ['adminPortal', 'ponrPassed'], text: 'the provisioning contact signs in at {{url}}.', check: 'lowercase' },
    { what: 'a lowercase paragraph after a blank line', lng: 'uk', ns: 'provisioning-contact', path: ['forwardToOwner', 'messageAwaiting'], text: 'Добрий день!\n\nпрошу оновити адресу.', check: 'lowercase' },
    { what: 'a placeholder renamed in one language', lng: 'uk', ns: 'cases', path: ['status', 'pending'], text: 'Звернення {{ref}} збережено.', check: 'placeholders' },
    { what: 'a placeholder missing from one plural form', lng: 'en', ns: 'support-case', path: ['attachments', 'received_one'], text: 'Got 1 file: {{names}}. Attach more, or continue.', check: 'placeholders' },
    { what: 'a Latin letter inside a Cyrillic word', lng: 'uk', ns: 'common', path: ['startedAgain'], text: 'Почнімо cпочатку.', check: 'mixed-script' },
    { what: 'a UI label outside «» in Ukrainian', lng: 'uk', ns: 'diagram', path: ['guard', 'orderIsClosed'], text: 'рядок у статусі Closed', check: 'ui-label' },
  ];

  it.each(cases.map((c) => [c.what, c]))('reports %s', (_, c) => {
    const problems = lintResources(planted(c.lng, c.ns, c.path, c.text), glossary);
    const key = `${c.ns}:${c.path.join('.')}`;
    expect(checksAt(problems, key), formatProblems(problems)).toContain(c.check);
  });

  it('leaves a button that is only a UI label, fragments in lower case and i18next nesting alone', () => {
    expect(lintText('uk', 'x:choice', 'Awaiting Provisioning Details', glossary)).toEqual([]);
    expect(lintText('en', 'x:value', 'clearing the cache and cookies', glossary)).toEqual([]);
    expect(lintText('uk', 'x:nested', 'Ви вже спробували $t(provisioning-contact:units.fixes, {"count": {{count}} }).', glossary)).toEqual([]);
  });
});
