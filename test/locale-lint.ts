/**
 * The locale lint: what a proofreader checks by eye, as code (issue 17). It reads the forbidden
 * variants and the UI labels from locales/GLOSSARY.md, so the glossary is the one place a term is
 * decided. recognizer.json and utterances/ hold what people type and are not linted.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locale } from '../dialogs/flow';
import type { Resources } from '../src/i18n';

export const GLOSSARY_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'locales', 'GLOSSARY.md');
/** Namespaces of what people type, not what the bot says. */
export const UNLINTED_NAMESPACES = ['recognizer'];

export interface Forbidden {
  /** As written in the glossary, for the message. */
  source: string;
  pattern: RegExp;
  /** The term it belongs to (the glossary row's first cell). */
  term: string;
}

export interface Glossary {
  forbidden: Record<Locale, Forbidden[]>;
  /** UI labels that stand inside «…» in Ukrainian running text. */
  quotedInUk: string[];
}

export interface Problem {
  lng: Locale;
  /** `namespace:dotted.key` */
  key: string;
  check: 'forbidden' | 'apostrophe' | 'quotes' | 'spaces' | 'lowercase' | 'placeholders' | 'mixed-script' | 'ui-label';
  message: string;
}

const PLURAL = /_(zero|one|two|few|many|other)$/;
const LETTER = /\p{L}/u;

/** A table cell split on unescaped pipes, with `\|` kept as a pipe. */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `phrase` → whole phrase, any case; `/re/flags` → that expression (with `u`). */
export function toPattern(entry: string): RegExp {
  const re = /^\/(.+)\/([a-z]*)$/.exec(entry);
  if (re) return new RegExp(re[1]!, re[2]!.includes('u') ? re[2] : `${re[2]}u`);
  return new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(entry)}(?![\\p{L}\\p{N}])`, 'iu');
}

/** The backticked entries of a cell. */
const entries = (cell: string | undefined): string[] => [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

export function parseGlossary(markdown: string): Glossary {
  const glossary: Glossary = { forbidden: { en: [], uk: [] }, quotedInUk: [] };
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || !lines[i + 1]?.startsWith('| ---')) continue;
    const header = cells(lines[i]!);
    const col = (name: string) => header.indexOf(name);
    const en = col('Forbidden in English');
    const uk = col('Forbidden in Ukrainian');
    const both = col('Machine-translated forms (forbidden)');
    const quoted = col('In «» in Ukrainian text');
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
      const row = cells(lines[i]!);
      const term = row[0]!;
      const add = (lng: Locale, cell: string | undefined) => {
        for (const source of entries(cell)) glossary.forbidden[lng].push({ source, pattern: toPattern(source), term });
      };
      if (en >= 0) add('en', row[en]);
      if (uk >= 0) add('uk', row[uk]);
      if (both >= 0) {
        add('en', row[both]);
        add('uk', row[both]);
      }
      if (quoted >= 0 && row[quoted] === 'yes') glossary.quotedInUk.push(term.replace(/\s*\([^)]*\)\s*$/, ''));
    }
  }
  return glossary;
}

export const loadGlossary = (path = GLOSSARY_PATH) => parseGlossary(readFileSync(path, 'utf8'));

/** Every string leaf of a namespace as [dotted key, text]; arrays give one leaf per item. */
export function leaves(value: unknown, prefix = ''): [string, string][] {
  if (typeof value === 'string') return [[prefix, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${prefix}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  }
  return [];
}

/** `$t(key, {"json": …})` nestings: their JSON is i18next's syntax, not text. */
function nestings(text: string): { start: number; end: number; key: string }[] {
  const out: { start: number; end: number; key: string }[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('$t(', from);
    if (start < 0) return out;
    let depth = 0;
    let end = start + 2;
    for (; end < text.length; end++) {
      if (text[end] === '(') depth++;
      else if (text[end] === ')' && --depth === 0) break;
    }
    out.push({ start, end: end + 1, key: text.slice(start + 3, end).split(',')[0]!.trim() });
    from = end + 1;
  }
}

/** The text a person reads: nestings and placeholders stand in as one capital letter. */
export function prose(text: string): string {
  let out = text;
  for (const n of nestings(text).reverse()) out = `${out.slice(0, n.start)}X${out.slice(n.end)}`;
  return out.replace(/\{\{[^}]*\}\}/g, 'X');
}

/** `{{placeholders}}` and `$t(nested keys)`, sorted: what must match across languages. */
export function interpolations(text: string): string[] {
  const outside = (() => {
    let out = text;
    for (const n of nestings(text).reverse()) out = `${out.slice(0, n.start)} ${out.slice(n.end)}`;
    return out;
  })();
  const placeholders = [...outside.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => `{{${m[1]}}}`);
  const nested = nestings(text).flatMap((n) => [`$t(${n.key})`, ...[...text.slice(n.start, n.end).matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => `{{${m[1]}}}`)]);
  return [...placeholders, ...nested].sort();
}

const SENTENCE_END = /[.!?:…;]["”»)]?$/u;

function firstLetterIsLower(paragraph: string): boolean {
  const first = [...paragraph].find((c) => LETTER.test(c));
  return first !== undefined && first !== first.toUpperCase() && first === first.toLowerCase();
}

/** Checks one string; `lng` decides the language rules. */
export function lintText(lng: Locale, key: string, text: string, glossary: Glossary): Problem[] {
  const problems: Problem[] = [];
  const report = (check: Problem['check'], message: string) => problems.push({ lng, key, check, message });
  const readable = prose(text);

  for (const f of glossary.forbidden[lng]) {
    const m = f.pattern.exec(readable);
    if (m) report('forbidden', `"${m[0]}" is a forbidden variant (${f.source}) of "${f.term}"; see locales/GLOSSARY.md`);
  }

  if (/ {2,}/.test(text)) report('spaces', 'doubled space');
  // Separators ("; ") are all punctuation and space by design.
  if (LETTER.test(text) && /^\s|\s$/.test(text)) report('spaces', 'leading or trailing whitespace');
  if (/ \n|\n /.test(text)) report('spaces', 'a space next to a line break');

  // A paragraph (or a whole sentence-like string) starts with a capital letter. Fragments (labels,
  // values, list items without a full stop) may start in lower case.
  const paragraphs = readable.split(/\n+/);
  const sentenceLike = SENTENCE_END.test(readable.trim());
  paragraphs.forEach((p, i) => {
    if ((sentenceLike || i > 0 || SENTENCE_END.test(p.trim())) && firstLetterIsLower(p)) {
      report('lowercase', `paragraph ${i + 1} starts with a lowercase letter: "${p.slice(0, 40)}"`);
    }
  });

  if (lng === 'uk') {
    const apostrophe = /\p{Script=Cyrillic}['`ʼ‘]\p{Script=Cyrillic}/u.exec(readable);
    if (apostrophe) report('apostrophe', `"${apostrophe[0]}": the Ukrainian apostrophe is ’`);
    const straight = /["“”„]/u.exec(readable);
    if (straight) report('quotes', `${straight[0]} in Ukrainian text: use «»`);
    const single = /(?<!\p{L})'|'(?!\p{L})/u.exec(readable);
    if (single) report('quotes', "a straight ' used as a quote: use «»");
    const mixed = /\p{Script=Cyrillic}+\p{Script=Latin}+\p{L}*|\p{Script=Latin}+\p{Script=Cyrillic}+\p{L}*/u.exec(readable);
    if (mixed) report('mixed-script', `"${mixed[0]}" mixes Latin and Cyrillic letters`);

    const unquoted = readable.replace(/«[^»]*»/g, ' ');
    // A string that is only the label (a button, a fact value) needs no quotes.
    if (!glossary.quotedInUk.includes(text.trim())) {
      for (const label of glossary.quotedInUk) {
        if (new RegExp(`(?<!\\p{L})${escapeRegExp(label)}(?!\\p{L})`, 'u').test(unquoted)) report('ui-label', `the UI label ${label} is not inside «…»`);
      }
    }
  } else {
    const straight = /"/.exec(readable);
    if (straight) report('quotes', 'a straight " in English text: use “…”');
  }
  return problems;
}

/** Every problem in every linted namespace of both languages, placeholders across languages too. */
export function lintResources(resources: Resources, glossary: Glossary): Problem[] {
  const problems: Problem[] = [];
  const namespaces = Object.keys(resources.en).filter((ns) => !UNLINTED_NAMESPACES.includes(ns));
  for (const ns of namespaces) {
    const byLocale = { en: leaves(resources.en[ns]), uk: leaves(resources.uk[ns] ?? {}) };
    for (const lng of ['en', 'uk'] as const) {
      for (const [key, text] of byLocale[lng]) problems.push(...lintText(lng, `${ns}:${key}`, text, glossary));
    }
    // Placeholders: every plural form of a key, in both languages, uses the same ones.
    const forms = new Map<string, { lng: Locale; key: string; found: string[] }[]>();
    for (const lng of ['en', 'uk'] as const) {
      for (const [key, text] of byLocale[lng]) {
        const base = key.replace(PLURAL, '');
        forms.set(base, [...(forms.get(base) ?? []), { lng, key, found: interpolations(text) }]);
      }
    }
    for (const [base, list] of forms) {
      const reference = list.find((f) => f.lng === 'en' && !PLURAL.test(f.key)) ?? list.find((f) => f.lng === 'en' && f.key.endsWith('_other')) ?? list[0]!;
      for (const f of list) {
        if (f.found.join(' ') !== reference.found.join(' ')) {
          problems.push({
            lng: f.lng,
            key: `${ns}:${f.key}`,
            check: 'placeholders',
            message: `uses ${f.found.join(' ') || 'none'}; ${reference.lng} ${ns}:${reference.key} uses ${reference.found.join(' ') || 'none'} (${base})`,
          });
        }
      }
    }
  }
  return problems;
}

export const formatProblems = (problems: Problem[]) => problems.map((p) => `${p.lng} ${p.key} [${p.check}] ${p.message}`).join('\n');
