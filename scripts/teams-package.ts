/**
 * `npm run teams:package [-- --out path.zip]`: writes the Teams app package a Teams admin uploads
 * (Teams admin center > Manage apps > Upload, or "Upload a custom app" in Teams): manifest.json with
 * the bot id from MicrosoftAppId, a Ukrainian localization file, and two icons drawn here (no binary
 * assets in the repository). Names and descriptions come from locales/<lng>/botframework.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import JSZip from 'jszip';
import { z } from 'zod';
import { ConfigError, loadConfig, type Config } from '../src/config';
import { createTranslator, type Translator } from '../src/i18n';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT = join(ROOT, 'dist', 'teams-app.zip');
const MANIFEST_SCHEMA_VERSION = '1.17';
const LOCALIZATION_SCHEMA = `https://developer.microsoft.com/en-us/json-schemas/teams/v${MANIFEST_SCHEMA_VERSION}/MicrosoftTeams.Localization.schema.json`;
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

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID (the Microsoft App ID of the Azure Bot)');

/** The limits Teams enforces on upload, checked here so a bad package never reaches an admin. */
const texts = z.object({
  'name.short': z.string().min(1).max(30),
  'name.full': z.string().min(1).max(100),
  'description.short': z.string().min(1).max(80),
  'description.full': z.string().min(1).max(4000),
});
const command = z.object({ title: z.string().min(1).max(32), description: z.string().min(1).max(128) });

const COMMANDS = [
  ['commandStartOver', 'commandStartOverHint'],
  ['commandHelp', 'commandHelpHint'],
  ['commandSupport', 'commandSupportHint'],
] as const;

function localized(translator: Translator, locale: 'en' | 'uk') {
  const t = (key: string) => translator.t(locale, `botframework:teams.${key}`);
  return {
    texts: texts.parse({
      'name.short': t('shortName'),
      'name.full': t('fullName'),
      'description.short': t('shortDescription'),
      'description.full': t('fullDescription'),
    }),
    commands: COMMANDS.map(([title, hint]) => command.parse({ title: t(title), description: t(hint) })),
  };
}

export type PackageConfig = Pick<Config, 'MicrosoftAppId' | 'TEAMS_DEVELOPER_NAME' | 'TEAMS_DEVELOPER_URL' | 'TEAMS_PRIVACY_URL' | 'TEAMS_TERMS_URL'>;

export function buildManifests(config: PackageConfig, translator: Translator, version: string) {
  const botId = guid.parse(config.MicrosoftAppId);
  const base = JSON.parse(readFileSync(join(ROOT, 'teams', 'manifest.base.json'), 'utf8')) as Record<string, unknown> & {
    bots: [{ commandLists: [{ commands: unknown[] }] } & Record<string, unknown>];
  };
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
  const ukFile: Record<string, string> = { $schema: LOCALIZATION_SCHEMA, ...uk.texts };
  uk.commands.forEach((c, i) => {
    ukFile[`bots[0].commandLists[0].commands[${i}].title`] = c.title;
    ukFile[`bots[0].commandLists[0].commands[${i}].description`] = c.description;
  });
  return { manifest, localization: { 'uk-ua.json': ukFile } };
}

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
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

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
    if (err instanceof z.ZodError) {
      process.stderr.write(`The Teams package would be refused:\n${err.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}\n`);
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
