import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { buildTeamsPackage } from '../../../scripts/teams-package';
import { loadConfig } from '../../../src/config';
import { buildVocabulary, recogniseCommand } from '../../../src/engine/recognizer';
import { createTranslator } from '../../../src/i18n';
import { tempDir } from './harness';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BOT_ID = '3f1c1a52-5b8e-4a59-9f55-0a7a5d0c4b11';
const translator = createTranslator();

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
  return { zip, manifest };
}

const config = loadConfig({ MicrosoftAppId: BOT_ID, MicrosoftAppPassword: 'x' });

describe('the Teams app package', () => {
  it('has a manifest whose app and bot id are MicrosoftAppId, and the files it names', async () => {
    const { zip, manifest } = await unpack(await buildTeamsPackage(config, translator));
    expect(manifest.id).toBe(BOT_ID);
    expect(manifest.bots[0].botId).toBe(BOT_ID);
    expect(manifest.manifestVersion).toBe('1.17');
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
    const { zip, manifest } = await unpack(await buildTeamsPackage(config, translator));
    const uk = JSON.parse(await zip.file('uk-ua.json')!.async('string')) as Record<string, string>;
    const vocab = buildVocabulary(translator.resources);
    const en = manifest.bots[0].commandLists[0].commands.map((c: { title: string }) => c.title);
    const ukTitles = Object.entries(uk).filter(([k]) => k.endsWith('.title')).map(([, v]) => v);
    expect(ukTitles).toHaveLength(en.length);
    for (const title of [...en, ...ukTitles]) expect(recogniseCommand(vocab, title), title).toBeDefined();
    expect(uk['name.short']).toBe(translator.t('uk', 'botframework:teams.shortName'));
  });

  it('refuses an app id that is not a GUID', async () => {
    await expect(buildTeamsPackage({ ...config, MicrosoftAppId: 'my-bot' }, translator)).rejects.toThrow(/GUID/);
  });

  it('is written by npm run teams:package to the given path', async () => {
    const dir = tempDir('pce-teams-');
    try {
      const out = join(dir.path, 'app.zip');
      const env = { PATH: process.env.PATH ?? '', MicrosoftAppId: BOT_ID, MicrosoftAppPassword: 'x' };
      const proc = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'teams-package.ts'), '--out', out], { cwd: dir.path, env, stdio: 'ignore' });
      expect(await new Promise((resolve) => proc.once('exit', resolve))).toBe(0);
      const { manifest } = await unpack(readFileSync(out));
      expect(manifest.bots[0].botId).toBe(BOT_ID);
    } finally {
      dir.remove();
    }
  });
});
