/**
 * Every string a person reads comes from locales/<lng>/<namespace>.json, through one i18next
 * instance loaded synchronously at start (no backend plugin: the files ship with the app).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next, { type i18n, type TFunction } from 'i18next';
import { LOCALES, type Locale } from '../dialogs/flow';

export const LOCALES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'locales');

export type Resources = Record<Locale, Record<string, Record<string, unknown>>>;

export function loadResources(dir = LOCALES_DIR): Resources {
  const out = {} as Resources;
  for (const lng of LOCALES) {
    out[lng] = {};
    for (const file of readdirSync(join(dir, lng)).filter((f) => f.endsWith('.json'))) {
      out[lng][basename(file, '.json')] = JSON.parse(readFileSync(join(dir, lng, file), 'utf8'));
    }
  }
  return out;
}

export interface Translator {
  t(locale: Locale, key: string, params?: Record<string, unknown>): string;
  /** True when the key exists in that language (tests use it to prove no key is missing). */
  has(locale: Locale, key: string): boolean;
  readonly resources: Resources;
}

export function createTranslator(resources: Resources = loadResources()): Translator {
  const instance: i18n = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources,
    lng: 'en',
    fallbackLng: false,
    supportedLngs: [...LOCALES],
    ns: Object.keys(resources.en),
    defaultNS: 'common',
    nsSeparator: ':',
    keySeparator: '.',
    // Values are plain text; channels escape for their own format.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  const fixed = new Map<Locale, TFunction>(LOCALES.map((l) => [l, instance.getFixedT(l)]));
  return {
    resources,
    t(locale, key, params) {
      return String((fixed.get(locale) as TFunction)(key, params as never));
    },
    has(locale, key) {
      return instance.exists(key, { lng: locale, fallbackLng: false } as never);
    },
  };
}

/** `uk-UA`, `UK`, `ua` -> `uk`; anything else -> `en` (or undefined when nothing usable was given). */
export function normaliseLocale(raw: string | undefined | null): Locale | undefined {
  if (!raw) return undefined;
  const lower = raw.trim().toLowerCase().replace('_', '-');
  const primary = lower.split('-')[0];
  if (primary === 'uk' || primary === 'ua' || lower.endsWith('-ua')) return 'uk';
  if (primary) return 'en';
  return undefined;
}
