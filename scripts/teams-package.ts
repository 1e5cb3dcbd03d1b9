/**
 * `npm run teams:package [-- --out path.zip]`: writes the Teams app package a Teams admin uploads
 * (Teams admin center > Manage apps > Upload, or "Upload a custom app" in Teams): manifest.json with
 * the bot id from MicrosoftAppId, a Ukrainian localization file, and two icons drawn here (no binary
 * assets in the repository). Names and descriptions come from locales/<lng>/botframework.json.
 *
 * The package is checked before it is written, offline, against Microsoft's JSON schemas for its
 * `manifestVersion` (teams/manifest.base.json) as the @microsoft/app-manifest package ships them, plus
 * what Teams checks on upload beyond the schema (files named, icon sizes, command lengths): an
 * invalid package is never written, the command exits 1 with the list of what is wrong.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import type { ErrorObject, ValidateFunction } from 'ajv';
import JSZip from 'jszip';
import { z } from 'zod';
import { ConfigError, loadConfig, type Config } from '../src/config';
import { createTranslator, type Translator } from '../src/i18n';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT = join(ROOT, 'dist', 'teams-app.zip');
const ACCENT = [0x0b, 0x5c, 0xad] as const;

// ---------- icons ----------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

type Rgba = readonly [number, number, number, number];

/** An RGBA PNG (colour type 6, 8 bits) with each pixel from `paint`. */
export function encodePng(width: number, height: number, paint: (x: number, y: number) => Rgba): Buffer {
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 4 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) raw.set(paint(x, y), row + 1 + x * 4);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** True where an envelope outline (frame and flap) of an icon `size` px wide is drawn. */
function onEnvelope(x: number, y: number, size: number): boolean {
  const s = size / 32;
  const [left, right, top, bottom] = [5 * s, 27 * s, 8 * s, 24 * s];
  const half = Math.max(1, 1.25 * s);
  const cx = x + 0.5;
  const cy = y + 0.5;
  const edges: [number, number, number, number][] = [
    [left, top, right, top],
    [right, top, right, bottom],
    [right, bottom, left, bottom],
    [left, bottom, left, top],
    [left, top, 16 * s, 17 * s],
    [16 * s, 17 * s, right, top],
  ];
  return edges.some(([ax, ay, bx, by]) => distanceToSegment(cx, cy, ax, ay, bx, by) <= half);
}

/** 192×192 full-colour icon: white envelope on the accent colour. */
export function colorIcon(): Buffer {
  return encodePng(192, 192, (x, y) => (onEnvelope(x, y, 192) ? [255, 255, 255, 255] : [...ACCENT, 255]));
}

/** 32×32 outline icon: white on transparent, as Teams requires. */
export function outlineIcon(): Buffer {
  return encodePng(32, 32, (x, y) => (onEnvelope(x, y, 32) ? [255, 255, 255, 255] : [0, 0, 0, 0]));
}

// ---------- manifest ----------

const COMMANDS = [
  ['commandStartOver', 'commandStartOverHint'],
  ['commandHelp', 'commandHelpHint'],
  ['commandSupport', 'commandSupportHint'],
] as const;

function localized(translator: Translator, locale: 'en' | 'uk') {
  const t = (key: string) => translator.t(locale, `botframework:teams.${key}`);
  return {
    texts: {
      'name.short': t('shortName'),
      'name.full': t('fullName'),
      'description.short': t('shortDescription'),
      'description.full': t('fullDescription'),
    },
    commands: COMMANDS.map(([title, hint]) => ({ title: t(title), description: t(hint) })),
  };
}

const MANIFEST_SCHEMA = 'MicrosoftTeams.schema.json';
const LOCALIZATION_SCHEMA = 'MicrosoftTeams.Localization.schema.json';

/** Where Microsoft publishes the schema `file` of a manifest version (what `$schema` names). */
export function schemaUrl(manifestVersion: string, file: string): string {
  return `https://developer.microsoft.com/json-schemas/teams/v${manifestVersion}/${file}`;
}

export type PackageConfig = Pick<Config, 'MicrosoftAppId' | 'TEAMS_DEVELOPER_NAME' | 'TEAMS_DEVELOPER_URL' | 'TEAMS_PRIVACY_URL' | 'TEAMS_TERMS_URL'>;

/** manifest.json and the localization files, unchecked: `checkTeamsPackage` judges them. */
export function buildManifests(config: PackageConfig, translator: Translator, version: string) {
  const base = JSON.parse(readFileSync(join(ROOT, 'teams', 'manifest.base.json'), 'utf8')) as Record<string, unknown> & {
    manifestVersion: string;
    bots: [{ commandLists: [{ commands: unknown[] }] } & Record<string, unknown>];
  };
  const botId = config.MicrosoftAppId;
  const en = localized(translator, 'en');
  const uk = localized(translator, 'uk');
  const manifest = {
    ...base,
    // One id for the app and the bot: what Teams admins and the Azure Bot registration both show.
    id: botId,
    version,
    developer: {
      name: config.TEAMS_DEVELOPER_NAME,
      websiteUrl: config.TEAMS_DEVELOPER_URL,
      privacyUrl: config.TEAMS_PRIVACY_URL ?? config.TEAMS_DEVELOPER_URL,
      termsOfUseUrl: config.TEAMS_TERMS_URL ?? config.TEAMS_DEVELOPER_URL,
    },
    name: { short: en.texts['name.short'], full: en.texts['name.full'] },
    description: { short: en.texts['description.short'], full: en.texts['description.full'] },
    bots: [{ ...base.bots[0], botId, commandLists: [{ ...base.bots[0].commandLists[0], commands: en.commands }] }],
    localizationInfo: { defaultLanguageTag: 'en-us', additionalLanguages: [{ languageTag: 'uk-ua', file: 'uk-ua.json' }] },
  };
  const ukFile: Record<string, string> = { $schema: schemaUrl(base.manifestVersion, LOCALIZATION_SCHEMA), ...uk.texts };
  uk.commands.forEach((c, i) => {
    ukFile[`bots[0].commandLists[0].commands[${i}].title`] = c.title;
    ukFile[`bots[0].commandLists[0].commands[${i}].description`] = c.description;
  });
  return { manifest, localization: { 'uk-ua.json': ukFile } };
}

/** The package's zip; refused with `InvalidTeamsPackage` unless `checkTeamsPackage` finds nothing wrong in it. */
export async function buildTeamsPackage(config: PackageConfig, translator: Translator = createTranslator()): Promise<Buffer> {
  const pkg = z.object({ version: z.string() }).parse(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')));
  const { manifest, localization } = buildManifests(config, translator, pkg.version);
  const zip = new JSZip();
  zip.file('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [name, content] of Object.entries(localization)) zip.file(name, `${JSON.stringify(content, null, 2)}\n`);
  zip.file('color.png', colorIcon());
  zip.file('outline.png', outlineIcon());
  // A fixed date keeps the zip byte-identical for the same inputs.
  const date = new Date('2024-01-01T00:00:00Z');
  for (const file of Object.values(zip.files)) file.date = date;
  const buffer = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  // What is checked is the zip itself, read back: exactly what an admin would upload.
  const problems = await checkTeamsPackage(buffer);
  if (problems.length) throw new InvalidTeamsPackage(problems);
  return buffer;
}

// ---------- validation ----------

/** One thing Teams would refuse: the file in the package, the field (written as Teams' localization keys are), what is wrong. */
export type PackageProblem = { file: string; field: string; message: string };

export class InvalidTeamsPackage extends Error {
  constructor(readonly problems: PackageProblem[]) {
    super(`The Teams package would be refused:\n${problems.map((p) => `  - ${p.file}: ${p.field || '(the file)'} ${p.message}`).join('\n')}`);
    this.name = 'InvalidTeamsPackage';
  }
}

/** Icon sizes Teams requires on upload (the schema only names the files). */
const ICON_SIZES = { color: 192, outline: 32 } as const;
/** Bot command lengths Teams documents (its schema allows 128 and 4000). */
const COMMAND_LIMITS: Record<string, number> = { title: 32, description: 128 };

/** Words for the schema's shared definitions, where ajv would only quote a regular expression. */
const DEFINITIONS: Record<string, string> = {
  guid: 'must be a GUID (for the app and the bot: the Microsoft App ID of the Azure Bot)',
  httpsUrl: 'must be an https:// URL',
  anyHttpUrl: 'must be an http(s):// URL',
  hexColor: 'must be a colour like #0B5CAD',
  semver: 'must be a version like 1.2.3',
  languageTag: 'must be a language tag like en-us',
};

type Schemas = { manifest: ValidateFunction; localization: ValidateFunction };
const compiled = new Map<string, Promise<Schemas | undefined>>();

/** Microsoft's schemas of one manifest version as @microsoft/app-manifest ships them (offline); undefined if it has none. */
function schemasOf(version: string): Promise<Schemas | undefined> {
  let schemas = compiled.get(version);
  if (!schemas) compiled.set(version, (schemas = compileSchemas(version)));
  return schemas;
}

async function compileSchemas(version: string): Promise<Schemas | undefined> {
  let root: string;
  try {
    root = join(dirname(createRequire(import.meta.url).resolve('@microsoft/app-manifest/package.json')), 'build', 'json-schemas', 'teams');
  } catch {
    throw new Error('The Teams manifest schemas come from the @microsoft/app-manifest package (a devDependency): run npm install with dev dependencies, then this again.');
  }
  const dir = join(root, `v${version}`);
  if (!/^\d+\.\d+$/.test(version) || !existsSync(join(dir, MANIFEST_SCHEMA))) return undefined;
  // The Teams schemas are JSON Schema draft-04, which ajv itself no longer reads; the formats are the
  // ones the package's own validator checks. Their patterns are plain ECMAScript regular expressions
  // (the localization schema's `\b]` is an error with the `u` flag ajv adds by default).
  const [{ default: Ajv04 }, { default: addFormats }] = await Promise.all([import('ajv-draft-04'), import('ajv-formats')]);
  const ajv = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv, ['uri', 'email', 'regex']);
  const load = (file: string) => ajv.compile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as object);
  return { manifest: load(MANIFEST_SCHEMA), localization: load(LOCALIZATION_SCHEMA) };
}

/** `/bots/0/commandLists/0/commands/1/title` → `bots[0].commandLists[0].commands[1].title`. */
function fieldOf(pointer: string, child?: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return parts.reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
}

function schemaProblems(file: string, errors: ErrorObject[] | null | undefined): PackageProblem[] {
  return (errors ?? []).map((e) => {
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required') return { file, field: fieldOf(e.instancePath, String(params.missingProperty)), message: 'is required' };
    if (e.keyword === 'additionalProperties') return { file, field: fieldOf(e.instancePath, String(params.additionalProperty)), message: 'is not a field the schema allows' };
    const definition = /^#\/definitions\/([^/]+)\//.exec(e.schemaPath)?.[1];
    const message =
      (e.keyword === 'pattern' && definition ? DEFINITIONS[definition] : undefined) ??
      (e.keyword === 'enum' ? `must be one of: ${(params.allowedValues as unknown[]).join(', ')}` : undefined) ??
      (e.keyword === 'const' ? `must be ${JSON.stringify(params.allowedValue)}` : undefined) ??
      e.message ??
      e.keyword;
    return { file, field: fieldOf(e.instancePath), message };
  });
}

/** Accepts Microsoft's URL of that schema, with or without the `en-us/` the older manifests carried. */
function namesSchema(value: unknown, version: string, file: string): boolean {
  return typeof value === 'string' && value.replace('/en-us/json-schemas/', '/json-schemas/') === schemaUrl(version, file);
}

/** The value at a localization key (`bots[0].commandLists[0].commands[1].title`) in the manifest. */
function valueAt(manifest: unknown, key: string): unknown {
  return (key.match(/[^.[\]]+/g) ?? []).reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), manifest);
}

function pngSize(png: Buffer): { width: number; height: number } | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (png.length < 24 || !png.subarray(0, 8).equals(signature) || png.toString('ascii', 12, 16) !== 'IHDR') return undefined;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Teams' documented command lengths, for the texts of manifest.json and of each localization file. */
function commandProblems(file: string, texts: Record<string, unknown>): PackageProblem[] {
  return Object.entries(texts).flatMap(([field, text]) => {
    const limit = COMMAND_LIMITS[/\.commands\[\d+\]\.(\w+)$/.exec(field)?.[1] ?? ''];
    return limit && typeof text === 'string' && text.length > limit ? [{ file, field, message: `must NOT have more than ${limit} characters (Teams' limit for bot commands)` }] : [];
  });
}

/**
 * Everything in a package zip that Teams would refuse: manifest.json against Microsoft's schema of
 * its `manifestVersion`, each localization file against the localization schema of that version,
 * `$schema` naming that version, the files the manifest names present, the icons at their sizes.
 */
export async function checkTeamsPackage(zipBuffer: Buffer): Promise<PackageProblem[]> {
  const zip = await JSZip.loadAsync(zipBuffer);
  const problems: PackageProblem[] = [];
  const json = async (file: string): Promise<Record<string, unknown> | undefined> => {
    try {
      const value: unknown = JSON.parse((await zip.file(file)?.async('string')) ?? '');
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    problems.push({ file, field: '', message: zip.file(file) ? 'is not a JSON object' : 'is missing from the package' });
    return undefined;
  };
  const manifest = await json('manifest.json');
  if (!manifest) return problems;
  const version = String(manifest.manifestVersion ?? '');
  const schemas = await schemasOf(version);
  if (!schemas) return [{ file: 'manifest.json', field: 'manifestVersion', message: `is "${version}", a version @microsoft/app-manifest has no schema for` }];
  if (!schemas.manifest(manifest)) problems.push(...schemaProblems('manifest.json', schemas.manifest.errors));
  if (!namesSchema(manifest.$schema, version, MANIFEST_SCHEMA)) problems.push({ file: 'manifest.json', field: '$schema', message: `must be ${schemaUrl(version, MANIFEST_SCHEMA)} (manifestVersion is ${version})` });

  const icons = (manifest.icons ?? {}) as Record<string, unknown>;
  for (const [name, size] of Object.entries(ICON_SIZES)) {
    const file = icons[name];
    if (typeof file !== 'string') continue; // the schema has said so
    const png = zip.file(file);
    if (!png) {
      problems.push({ file: 'manifest.json', field: `icons.${name}`, message: `names ${file}, which is not in the package` });
      continue;
    }
    const found = pngSize(await png.async('nodebuffer'));
    if (found?.width !== size || found.height !== size) problems.push({ file, field: '', message: `must be a ${size}×${size} PNG (it is ${found ? `${found.width}×${found.height}` : 'no PNG'})` });
  }

  const commands = (valueAt(manifest, 'bots[0].commandLists[0].commands') ?? []) as unknown[];
  const texts = Object.fromEntries(commands.flatMap((_, i) => ['title', 'description'].map((k) => [`bots[0].commandLists[0].commands[${i}].${k}`, valueAt(manifest, `bots[0].commandLists[0].commands[${i}].${k}`)])));
  problems.push(...commandProblems('manifest.json', texts));

  const languages = (valueAt(manifest, 'localizationInfo.additionalLanguages') ?? []) as { file?: unknown }[];
  for (const [i, language] of languages.entries()) {
    if (typeof language.file !== 'string') continue;
    if (!zip.file(language.file)) {
      problems.push({ file: 'manifest.json', field: `localizationInfo.additionalLanguages[${i}].file`, message: `names ${language.file}, which is not in the package` });
      continue;
    }
    const strings = await json(language.file);
    if (!strings) continue;
    if (!schemas.localization(strings)) problems.push(...schemaProblems(language.file, schemas.localization.errors));
    if (!namesSchema(strings.$schema, version, LOCALIZATION_SCHEMA)) problems.push({ file: language.file, field: '$schema', message: `must be ${schemaUrl(version, LOCALIZATION_SCHEMA)}` });
    // A key that names no text of the manifest translates nothing (a wrong command index, a field left out).
    for (const key of Object.keys(strings)) {
      if (key !== '$schema' && typeof valueAt(manifest, key) !== 'string') problems.push({ file: language.file, field: key, message: 'translates no text of manifest.json' });
    }
    problems.push(...commandProblems(language.file, strings));
  }
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(JSON.stringify(p)) && seen.add(JSON.stringify(p)));
}

// ---------- command ----------

async function main(argv: string[]): Promise<void> {
  const outFlag = argv.indexOf('--out');
  const out = resolve(outFlag >= 0 && argv[outFlag + 1] ? argv[outFlag + 1]! : DEFAULT_OUT);
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  if (!config.MicrosoftAppId) {
    process.stderr.write(
      'MicrosoftAppId is not set. Register the bot first (README: "Connect to Microsoft Teams"), put its Microsoft App ID and password in .env, then run this again.\n',
    );
    process.exit(78);
  }
  let zip: Buffer;
  try {
    zip = await buildTeamsPackage(config);
  } catch (err) {
    if (err instanceof InvalidTeamsPackage) {
      process.stderr.write(`${err.message}\nNothing was written to ${out}.\n`);
      process.exit(1);
    }
    throw err;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, zip);
  process.stdout.write(`Wrote ${out} (${zip.length} bytes) for bot ${config.MicrosoftAppId}.\nUpload it in Teams admin center > Teams apps > Manage apps > Upload new app.\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
