import { describe, expect, it } from 'vitest';
import { LOCALES, type Locale } from '../dialogs/flow';
import { everyPath } from './dialogs/provisioning-contact/helpers';
import { provisioningContactFlow } from '../dialogs/provisioning-contact/machine';
import { DONT_KNOW } from '../dialogs/support-case/index';
import { loadResources } from '../src/i18n';
import { CHECK_BACK, HELPED, NOT_HELPED } from '../dialogs/followup/contract';
import { SKIP_COMMENT } from '../dialogs/followup/after-ending-view';

const resources = loadResources();
const PLURAL = /_(zero|one|two|few|many|other)$/;

/** Every leaf of a namespace as [dotted key, value]. */
function leaves(value: unknown, prefix = ''): [string, unknown][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, value]];
}

const keysOf = (lng: Locale, ns: string) => leaves(resources[lng][ns]).map(([k]) => k);
/** Plural forms differ by language (uk has few/many); the key they belong to must not. */
const pluralBase = (key: string) => key.replace(PLURAL, '');
const placeholders = (text: string) => [...text.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]).sort();

describe('locales', () => {
  const namespaces = Object.keys(resources.en).sort();

  it('has the same namespaces in every language', () => {
    for (const lng of LOCALES) expect(Object.keys(resources[lng]).sort()).toEqual(namespaces);
  });

  it.each(namespaces.map((ns) => [ns]))('%s: en and uk have the same keys (plural forms aside)', (ns) => {
    const en = [...new Set(keysOf('en', ns).map(pluralBase))].sort();
    const uk = [...new Set(keysOf('uk', ns).map(pluralBase))].sort();
    expect(uk).toEqual(en);
  });

  it.each(namespaces.map((ns) => [ns]))('%s: no empty text, and every plural has the forms its language needs', (ns) => {
    for (const lng of LOCALES) {
      const entries = leaves(resources[lng][ns]);
      for (const [key, value] of entries) {
        if (Array.isArray(value)) expect(value.length, `${lng} ${ns}:${key}`).toBeGreaterThan(0);
        else expect(String(value).trim(), `${lng} ${ns}:${key}`).not.toBe('');
      }
      const needed = new Intl.PluralRules(lng).resolvedOptions().pluralCategories;
      const bases = new Set(entries.map(([k]) => k).filter((k) => PLURAL.test(k)).map(pluralBase));
      for (const base of bases) {
        for (const category of needed) expect(entries.some(([k]) => k === `${base}_${category}`), `${lng} ${ns}:${base}_${category}`).toBe(true);
      }
    }
  });

  it.each(namespaces.map((ns) => [ns]))('%s: a translation uses the same {{placeholders}} as the English', (ns) => {
    const en = new Map(leaves(resources.en[ns]).map(([k, v]) => [pluralBase(k), typeof v === 'string' ? placeholders(v) : []]));
    for (const [key, value] of leaves(resources.uk[ns])) {
      if (typeof value !== 'string') continue;
      const expected = en.get(pluralBase(key));
      if (expected) expect(placeholders(value), `uk ${ns}:${key}`).toEqual(expected);
    }
  });

  it('keeps the CCW and Webex UI labels in English in the Ukrainian flow', () => {
    const uk = JSON.stringify(resources.uk['provisioning-contact']);
    for (const label of ['Awaiting Provisioning Details', '«Edit»', '«Save»', '«Apply to all lines»', '«Done»', 'Transaction Manager', 'Provisioning Email Update', 'Provisioning Contact Email', 'Cloud/SaaS Subscription', 'Change Provisioning Contact Email', 'Control Hub']) {
      expect(uk).toContain(label);
    }
    // Not the source article's machine-translated labels.
    for (const calque of ['Очікує на деталі підготовки', 'Застосувати до всіх рядків', 'Менеджер транзакцій', 'Центр керування']) expect(uk).not.toContain(calque);
  });

  it('gives every option the flow offers and every command synonyms in both languages', () => {
    const offered = new Set<string>();
    for (const p of everyPath()) {
      for (const s of [{ state: p.state }, ...p.steps]) provisioningContactFlow.view(s.state).choices.forEach((c) => offered.add(c.id));
    }
    // The intake's "I don't know" (order number, subscription ID) is typed as often as pressed.
    offered.add(DONT_KNOW);
    // What every ending offers too (dialogs/followup/offers.ts), and the rating's "No, that's all": typed as often as pressed.
    for (const id of [HELPED, NOT_HELPED, CHECK_BACK, SKIP_COMMENT]) offered.add(id);
    const ids = [...offered].filter((id) => !id.startsWith('cmd.')).sort();
    for (const lng of LOCALES) {
      const rec = resources[lng].recognizer as { choices: Record<string, string[]>; commands: Record<string, string[]> };
      expect(Object.keys(rec.choices).sort(), lng).toEqual(ids);
      for (const id of ids) expect(rec.choices[id]!.length, `${lng} ${id}`).toBeGreaterThan(0);
      expect(Object.keys(rec.commands).sort(), lng).toEqual(['back', 'help', 'lang_en', 'lang_uk', 'language', 'restart', 'support', 'triage']);
    }
  });
});
