import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine';
import { createTranslator, type Resources } from '../../src/i18n';
import { createStore } from '../../src/storage/index';
import { entryFlow, fixtureResources } from '../engine/fixture-flows';
import { silentLogger, useTempDir } from '../support';

const run = promisify(execFile);
const dir = useTempDir('report-script-', 'all');
let databaseUrl: string;

async function report(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/report.ts', ...args], {
    cwd: process.cwd(),
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
  });
  return stdout;
}

beforeAll(async () => {
  databaseUrl = `sqlite:${dir.join('bot.sqlite')}`;
  const store = createStore(databaseUrl, silentLogger);
  await store.open();
  const engine = new Engine({ store, flow: entryFlow, translator: createTranslator(fixtureResources as unknown as Resources), logger: silentLogger });
  await engine.handle({ channel: 'emulator', conversationId: 'one', user: { id: 'u1' }, kind: 'greeting' });
  await engine.handle({ channel: 'emulator', conversationId: 'one', user: { id: 'u1' }, text: 'yes' });
  await engine.handle({ channel: 'emulator', conversationId: 'two', user: { id: 'u2' }, locale: 'uk', kind: 'greeting' });
  await store.close();
});

describe('npm run report', () => {
  it('prints the window as JSON with --json', async () => {
    const json = JSON.parse(await report('--days', '1', '--json', '--idle-minutes', '60'));
    expect(json.total.conversations).toBe(2);
    expect(json.total.endings.resolved_edit).toBe(1);
    expect(json.total.endings.in_progress).toBe(1);
    expect(json.total.deflectionRate).toBe(1);
    expect(Object.keys(json.byLocale)).toEqual(['en', 'uk']);
    expect(Object.keys(json.byChannel)).toEqual(['emulator']);
  });

  it('prints a readable report in Ukrainian', async () => {
    const text = await report('--days', '1', '--lang', 'uk');
    expect(text).toContain('Усі розмови');
    expect(text).toContain('Канал: emulator');
    expect(text).not.toMatch(/report:|\{\{/);
  });

  it('writes a self-contained page with --html, in the language asked for, filtered', async () => {
    const file = dir.join('report.html');
    await report('--days', '1', '--html', file, '--lang', 'uk', '--locale', 'uk', '--idle-minutes', '60');
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<html lang="uk">');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|report:|\{\{/);
    // Only the conversation held in Ukrainian, and the filter said on the page.
    expect(html).toMatch(/<dt>Мова<\/dt><dd>українська \(uk\)<\/dd>/);
    expect(html).toMatch(/<div class="label">Розмов<\/div><div class="value">1<\/div>/);
  });

  it('refuses --json with --html, and a window named twice', async () => {
    await expect(report('--json', '--html', dir.join('x.html'))).rejects.toThrow(/either --json or --html/);
    await expect(report('--days', '3', '--from', '2026-11-01')).rejects.toThrow(/either days or from\/to/);
  });

  it('an explicit window that holds nothing says so', async () => {
    const text = await report('--from', '2020-01-01', '--to', '2020-01-02');
    expect(text).toContain('No conversations started in this window.');
  });
});
