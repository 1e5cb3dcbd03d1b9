/**
 * `npm start` as a process: an unreachable PostgreSQL stops start-up with a readable error and a
 * non-zero exit code. (The default SQLite start is covered by test/server/start.test.ts.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const ENTRY = join(ROOT, 'src', 'index.ts');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs the bot in a fresh directory (no .env) until it exits. */
function runBot(env: Record<string, string>): Promise<{ code: number | null; output: string; cwd: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'bot-start-'));
  dirs.push(cwd);
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(TSX, [ENTRY], {
    cwd,
    env: { ...inherited, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', WEBCHAT_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((done, fail) => {
    const onData = (chunk: Buffer) => (output += chunk.toString());
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', fail);
    child.on('exit', (code) => done({ code, output, cwd }));
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('start-up storage', () => {
  it('exits non-zero with a named error and a hint when PostgreSQL is unreachable', async () => {
    const port = await closedPort();
    const { code, output } = await runBot({ DATABASE_URL: `postgres://bot:pw-not-logged@127.0.0.1:${port}/botdb` });
    expect(code).not.toBe(0);
    expect(output).toMatch(/StorageUnavailableError/);
    expect(output).toContain(`127.0.0.1:${port}/botdb`);
    expect(output).toMatch(/Hint: Is PostgreSQL running/);
    expect(output).not.toContain('pw-not-logged');
  });
});
