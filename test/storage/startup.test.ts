/**
 * `npm start` as a process: an unreachable PostgreSQL stops start-up with a readable error and a
 * non-zero exit code. (The default SQLite start is covered by test/server/start.test.ts.)
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startBotProcess, stopAfterTest, testDir } from '../support';

/** Runs the bot in a fresh directory (no .env) until it exits. */
async function runBot(env: Record<string, string>): Promise<{ code: number | null; output: string; cwd: string }> {
  const cwd = testDir('bot-start-').path;
  const run = stopAfterTest(startBotProcess(cwd, { NODE_ENV: 'test', LOG_LEVEL: 'info', WEBCHAT_ENABLED: 'false', ...env }));
  const code = await run.exited;
  return { code, output: run.output(), cwd };
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
