/**
 * `npm start` on a fresh checkout: no .env, no DATABASE_URL. The real entry point runs as a child
 * process in an empty directory, answers an activity, and stops cleanly on SIGTERM.
 */
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBotProcess, stopAfterTest, testDir, type BotProcess } from '../support';

/**
 * The entry point as `npm start` runs it, in an empty directory of the test's own (no .env, no data),
 * on 127.0.0.1 unless `env` says otherwise; killed when the test ends.
 */
function startEntryPoint(env: Record<string, string | undefined> = {}): { run: BotProcess; dir: string } {
  const dir = testDir('pce-start-').path;
  return { dir, run: stopAfterTest(startBotProcess(dir, env)) };
}

/** Runs the entry point with only `env` (not even PORT or HOST) until it exits (a configuration it must refuse). */
async function refusedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const { run } = startEntryPoint({ PORT: undefined, HOST: undefined, ...env });
  const code = await run.exited;
  return { code, stderr: run.stderr() };
}

describe('npm start (src/index.ts) on a fresh checkout', () => {
  it('starts on SQLite under ./data without .env, answers an activity, and exits 0 on SIGTERM', async () => {
    const { run, dir } = startEntryPoint();
    const url = await run.listening;

    // The free-text models train in the background after listening (issue 16).
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', storage: 'sqlite', nlu: expect.stringMatching(/^(training|ready)$/) });
    const res = await fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'message',
        id: 'first-activity',
        channelId: 'emulator',
        serviceUrl: 'http://127.0.0.1:9/',
        conversation: { id: 'fresh-clone' },
        from: { id: 'user-1' },
        recipient: { id: 'bot' },
        text: 'hello',
        deliveryMode: 'expectReplies',
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { activities: { type: string; text: string }[] };
    expect(body.activities.length).toBeGreaterThan(0);
    expect(body.activities[0]!.text.length).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'data', 'bot.sqlite'))).toBe(true);

    run.proc.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.records.map((r) => r.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  });

  it('refuses to start with a readable list when the configuration is wrong', async () => {
    const { code, stderr } = await refusedStart({ MicrosoftAppId: 'some-app-id' });
    expect(code).toBe(78);
    expect(stderr).toContain('MicrosoftAppPassword: is required when MicrosoftAppId is set');
  });

  it('listens on loopback only when HOST is not set: nothing is reachable from another address of this machine', async () => {
    const { run } = startEntryPoint({ HOST: undefined });
    const url = await run.listening;
    expect(new URL(url).hostname).toBe('127.0.0.1');
    const listening = run.records.find((r) => r.msg === 'bot listening')!;
    expect(listening.reachableFrom).toMatch(/this machine only/);
    expect(listening.botFrameworkAuth).toMatch(/answers this machine only/);
    const port = new URL(url).port;
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      await expect(fetch(`http://${external.address}:${port}/healthz`)).rejects.toThrow();
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('refuses to listen on the network with nothing authenticated there, and says what to set', async () => {
    const { code, stderr } = await refusedStart({ PORT: '0', HOST: '0.0.0.0' });
    expect(code).toBe(78);
    expect(stderr).toContain('HOST: is 0.0.0.0, reachable from other machines');
    expect(stderr).toContain('MicrosoftAppId');
  });

  it('opens the unauthenticated bot to the network only with the explicit opt-in, and warns loudly', async () => {
    const { run } = startEntryPoint({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED_NETWORK: 'true' });
    await run.listening;
    const listening = run.records.find((r) => r.msg === 'bot listening')!;
    expect(listening.reachableFrom).toMatch(/the network/);
    expect(listening.botFrameworkAuth).toMatch(/OFF, and \/api\/messages is open to the network/);
    expect(run.records.some((r) => r.level === 40 && String(r.msg).includes('ALLOW_UNAUTHENTICATED_NETWORK is on'))).toBe(true);
  });
});
