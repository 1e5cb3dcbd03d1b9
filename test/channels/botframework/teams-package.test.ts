/**
 * The Teams app package: checked here against Microsoft's own manifest and localization schemas (as
 * @microsoft/app-manifest ships them, offline) with a validator of the test's own, so a package the
 * script's checks let through is still caught; and a broken package is refused, naming the field.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { buildTeamsPackage, checkTeamsPackage, encodePng, InvalidTeamsPackage, type PackageProblem } from '../../../scripts/teams-package';
import { loadConfig } from '../../../src/config';
import { buildVocabulary, recogniseCommand } from '../../../src/engine/recognizer';
import { createTranslator, loadResources } from '../../../src/i18n';
import { testDir } from '../../support';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BOT_ID = '3f1c1a52-5b8e-4a59-9f55-0a7a5d0c4b11';
const translator = createTranslator();
const config = loadConfig({ MicrosoftAppId: BOT_ID, MicrosoftAppPassword: 'x' });
const schemaDir = join(dirname(createRequire(import.meta.url).resolve('@microsoft/app-manifest/package.json')), 'build', 'json-schemas', 'teams');

/** Microsoft's schema as published (draft-04), with no help from the script: a second opinion. */
function validatorFor(version: string, file: string) {
  const ajv = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv, ['uri', 'email', 'regex']);
  return ajv.compile(JSON.parse(readFileSync(join(schemaDir, `v${version}`, file), 'utf8')) as object);
}

/** Decodes the PNGs we write (RGBA, 8 bit, no interlace, filter 0 on every row). */
function decodePng(buf: Buffer): { width: number; height: number; pixel(x: number, y: number): number[] } {
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('ascii', offset + 4, offset + 8);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([...data.subarray(8, 13)]).toEqual([8, 6, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe((width * 4 + 1) * height);
  return { width, height, pixel: (x, y) => [...raw.subarray(y * (width * 4 + 1) + 1 + x * 4, y * (width * 4 + 1) + 5 + x * 4)] };
}

async function unpack(zipBuffer: Buffer) {
  const zip = await JSZip.loadAsync(zipBuffer);
  const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
  const uk = JSON.parse(await zip.file('uk-ua.json')!.async('string')) as Record<string, string>;
  return { zip, manifest, uk };
}

/** A good package with some of its files replaced. */
async function repacked(edit: (files: { manifest: Record<string, any>; uk: Record<string, string>; zip: JSZip }) => void): Promise<Buffer> {
  const { zip, manifest, uk } = await unpack(await buildTeamsPackage(config, translator));
  edit({ manifest, uk, zip });
  zip.file('manifest.json', JSON.stringify(manifest));
  zip.file('uk-ua.json', JSON.stringify(uk));
  return zip.generateAsync({ type: 'nodebuffer' });
}

const fields = (problems: PackageProblem[]) => problems.map((p) => `${p.file} ${p.field}`);

function runScript(env: Record<string, string>, out: string): Promise<{ code: number | null; stderr: string }> {
  const dir = dirname(out);
  const proc = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'teams-package.ts'), '--out', out], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stderr })));
}

describe('the Teams app package', () => {
  it("is valid against Microsoft's schemas of its manifest version, a current one (1.22 or later)", async () => {
    const { manifest, uk } = await unpack(await buildTeamsPackage(config, translator));
    const [major, minor] = String(manifest.manifestVersion).split('.').map(Number);
    expect(major === 1 && minor! >= 22, manifest.manifestVersion).toBe(true);
    expect(manifest.$schema).toBe(`https://developer.microsoft.com/json-schemas/teams/v${manifest.manifestVersion}/MicrosoftTeams.schema.json`);
    const manifestSchema = validatorFor(manifest.manifestVersion, 'MicrosoftTeams.schema.json');
    expect(manifestSchema(manifest), JSON.stringify(manifestSchema.errors)).toBe(true);
    const localizationSchema = validatorFor(manifest.manifestVersion, 'MicrosoftTeams.Localization.schema.json');
    expect(localizationSchema(uk), JSON.stringify(localizationSchema.errors)).toBe(true);
    expect(uk.$schema).toBe(`https://developer.microsoft.com/json-schemas/teams/v${manifest.manifestVersion}/MicrosoftTeams.Localization.schema.json`);
  });

  it('has a manifest whose app and bot id are MicrosoftAppId, and the files it names', async () => {
    const { zip, manifest } = await unpack(await buildTeamsPackage(config, translator));
    expect(manifest.id).toBe(BOT_ID);
    expect(manifest.bots[0].botId).toBe(BOT_ID);
    expect(manifest.version).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    expect(manifest.developer).toEqual({
      name: 'Partner Support',
      websiteUrl: 'https://www.cisco.com/go/cs',
      privacyUrl: 'https://www.cisco.com/go/cs',
      termsOfUseUrl: 'https://www.cisco.com/go/cs',
    });
    const named = [manifest.icons.color, manifest.icons.outline, ...manifest.localizationInfo.additionalLanguages.map((l: { file: string }) => l.file)];
    for (const file of named) expect(zip.file(file), file).not.toBeNull();
  });

  it('draws a 192×192 colour icon and a 32×32 white-on-transparent outline icon', async () => {
    const { zip } = await unpack(await buildTeamsPackage(config, translator));
    const color = decodePng(await zip.file('color.png')!.async('nodebuffer'));
    expect([color.width, color.height]).toEqual([192, 192]);
    const outline = decodePng(await zip.file('outline.png')!.async('nodebuffer'));
    expect([outline.width, outline.height]).toEqual([32, 32]);
    const seen = new Set<string>();
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) seen.add(outline.pixel(x, y).join(','));
    expect([...seen].sort()).toEqual(['0,0,0,0', '255,255,255,255']);
    let opaque = 0;
    for (let y = 0; y < 192; y++) for (let x = 0; x < 192; x++) if (color.pixel(x, y)[3] === 255) opaque += 1;
    expect(opaque).toBe(192 * 192);
  });

  it('lists commands the bot understands, in English and in the Ukrainian localization', async () => {
    const { manifest, uk } = await unpack(await buildTeamsPackage(config, translator));
    const vocab = buildVocabulary(translator.resources);
    const en = manifest.bots[0].commandLists[0].commands.map((c: { title: string }) => c.title);
    const ukTitles = Object.entries(uk).filter(([k]) => k.endsWith('.title')).map(([, v]) => v);
    expect(ukTitles).toHaveLength(en.length);
    for (const title of [...en, ...ukTitles]) expect(recogniseCommand(vocab, title), title).toBeDefined();
    expect(uk['name.short']).toBe(translator.t('uk', 'botframework:teams.shortName'));
  });
});

describe('a broken Teams package', () => {
  it('is refused, naming each field that is wrong', async () => {
    const broken = await repacked(({ manifest, uk, zip }) => {
      manifest.accentColor = 'blue';
      delete manifest.developer.privacyUrl;
      manifest.bots[0].isNotificationOnly = 'no';
      manifest.bots[0].commandLists[0].commands[0].title = 'Start over from the very first question';
      manifest.staticTab = [];
      uk['bots[0].commandLists[0].commands[7].title'] = 'Зайва';
      zip.file('outline.png', encodePng(48, 48, () => [255, 255, 255, 255]));
    });
    expect(fields(await checkTeamsPackage(broken)).sort()).toEqual(
      [
        'manifest.json accentColor',
        'manifest.json developer.privacyUrl',
        'manifest.json bots[0].isNotificationOnly',
        'manifest.json bots[0].commandLists[0].commands[0].title',
        'manifest.json staticTab',
        'uk-ua.json bots[0].commandLists[0].commands[7].title',
        'outline.png ',
      ].sort(),
    );
    const problems = await checkTeamsPackage(broken);
    expect(problems).toContainEqual({ file: 'manifest.json', field: 'accentColor', message: 'must be a colour like #0B5CAD' });
    expect(problems).toContainEqual({ file: 'manifest.json', field: 'developer.privacyUrl', message: 'is required' });
    expect(problems).toContainEqual({ file: 'outline.png', field: '', message: 'must be a 32×32 PNG (it is 48×48)' });
  });

  it('is refused when its $schema names another version than its manifestVersion, or a version without a schema', async () => {
    const stale = await repacked(({ manifest }) => (manifest.$schema = 'https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json'));
    expect(fields(await checkTeamsPackage(stale))).toEqual(['manifest.json $schema']);
    const unknown = await repacked(({ manifest }) => (manifest.manifestVersion = '1.99'));
    expect(await checkTeamsPackage(unknown)).toEqual([{ file: 'manifest.json', field: 'manifestVersion', message: 'is "1.99", a version @microsoft/app-manifest has no schema for' }]);
  });

  it('is not built from an app id that is not a GUID, or from translations Teams would not take', async () => {
    const notGuid = buildTeamsPackage({ ...config, MicrosoftAppId: 'my-bot' }, translator);
    await expect(notGuid).rejects.toBeInstanceOf(InvalidTeamsPackage);
    await expect(notGuid).rejects.toThrow(/manifest\.json: id must be a GUID/);
    const resources = loadResources();
    (resources.uk.botframework!.teams as Record<string, string>).shortName = 'Провізійний контакт: помічник з листа';
    const problems = await buildTeamsPackage(config, createTranslator(resources)).catch((err: InvalidTeamsPackage) => err.problems);
    expect(problems).toEqual([{ file: 'uk-ua.json', field: 'name.short', message: 'must NOT have more than 30 characters' }]);
  });
});

describe('npm run teams:package', () => {
  it('writes the package to the given path', async () => {
    const out = testDir('pce-teams-').join('app.zip');
    expect((await runScript({ MicrosoftAppId: BOT_ID, MicrosoftAppPassword: 'x' }, out)).code).toBe(0);
    const { manifest } = await unpack(readFileSync(out));
    expect(manifest.bots[0].botId).toBe(BOT_ID);
  });

  it('refuses to write an invalid package: exit 1 and the list of what is wrong', async () => {
    const out = testDir('pce-teams-').join('app.zip');
    const { code, stderr } = await runScript({ MicrosoftAppId: 'my-bot', MicrosoftAppPassword: 'x' }, out);
    expect(code).toBe(1);
    expect(stderr).toContain('The Teams package would be refused:\n  - manifest.json: id must be a GUID');
    expect(stderr).toContain('  - manifest.json: bots[0].botId must be a GUID');
    expect(existsSync(out)).toBe(false);
  });
});
