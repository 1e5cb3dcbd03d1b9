/**
 * Every string a person reads comes from locales/<lng>/<namespace>.json, through one i18next
 * instance loaded synchronously at start (no backend plugin: the files ship with the app).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';
import { LRUCache } from 'lru-cache';
import { LOCALES, type Locale } from '../dialogs/flow';
import { ROOT } from './root';

export const LOCALES_DIR = join(ROOT, 'locales');

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
  /**
   * True when the key exists in that language (tests use it to prove no key is missing). With a
   * `count` in `params`, a plural key (`key_one`, `key_few`, …) counts as existing.
   */
  has(locale: Locale, key: string, params?: Record<string, unknown>): boolean;
  readonly resources: Resources;
}

/** Parameterless translations kept per translator (far more than the locales hold). */
const PLAIN_CACHE_LIMIT = 20_000;
/** Translations with parameters kept per translator, oldest dropped first. */
const PARAMS_CACHE_LIMIT = 2_000;

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
  // Most lookups (button labels, fixed paragraphs) have no parameters and always give the same text;
  // i18next's lookup was a visible share of a turn's CPU (README "Performance"). Bounded, since a
  // caller may build keys from data.
  const plain = new Map<string, string>();
  const withParams = new LRUCache<string, string>({ max: PARAMS_CACHE_LIMIT });
  return {
    resources,
    t(locale, key, params) {
      const translate = fixed.get(locale) as TFunction;
      if (params !== undefined && Object.keys(params).length > 0) {
        // Most parameters repeat (the sender address, a portal URL, an option's number): i18next's
        // interpolation was ~3 % of a turn. Values are plain strings and numbers, so JSON is the key.
        const paramKey = `${locale}:${key}:${JSON.stringify(params)}`;
        let text = withParams.get(paramKey);
        if (text === undefined) {
          text = String(translate(key, params as never));
          withParams.set(paramKey, text);
        }
        return text;
      }
      const cacheKey = `${locale}:${key}`;
      let text = plain.get(cacheKey);
      if (text === undefined) {
        text = String(translate(key));
        if (plain.size < PLAIN_CACHE_LIMIT) plain.set(cacheKey, text);
      }
      return text;
    },
    has(locale, key, params) {
      return instance.exists(key, { ...params, lng: locale, fallbackLng: false } as never);
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
