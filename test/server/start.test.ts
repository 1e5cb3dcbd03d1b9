/**
 * `npm start` on a fresh checkout: no .env, no DATABASE_URL. The real entry point runs as a child
 * process in an empty directory, answers an activity, and stops cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../channels/botframework/harness';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// One process, as `npm start` runs it: the tsx binary would wrap it in a second one that a SIGKILL
// orphans, leaving a bot listening after the test. The cwd is an empty directory: name tsx by path.
const TSX = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
let child: ChildProcess | undefined;
let dir: ReturnType<typeof tempDir> | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  dir?.remove();
});

/** Env of this process minus everything the bot reads, so the child sees a machine with no configuration. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) env[key] = process.env[key];
  return { ...env, ...extra };
}

function startEntryPoint(cwd: string, env: Record<string, string> = { HOST: '127.0.0.1' }) {
  const proc = spawn(process.execPath, ['--import', TSX, join(root, 'src', 'index.ts')], {
    cwd,
    env: cleanEnv({ PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const records: Record<string, unknown>[] = [];
  let buffered = '';
  let stderr = '';
  const listening = new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        const record = JSON.parse(line) as Record<string, unknown>;
        records.push(record);
        if (record.msg === 'bot listening') resolve(String(record.url));
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    proc.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, records, listening, exited };
}

/** Runs the entry point with `env` until it exits (a configuration it must refuse). */
async function refusedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  dir = tempDir('pce-start-');
  const proc = spawn(process.execPath, ['--import', TSX, join(root, 'src', 'index.ts')], {
    cwd: dir.path,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  return { code, stderr };
}

describe('npm start (src/index.ts) on a fresh checkout', () => {
  it('starts on SQLite under ./data without .env, answers an activity, and exits 0 on SIGTERM', async () => {
    dir = tempDir('pce-start-');
    const run = startEntryPoint(dir.path);
    child = run.proc;
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
    expect(existsSync(join(dir.path, 'data', 'bot.sqlite'))).toBe(true);

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
    dir = tempDir('pce-start-');
    const run = startEntryPoint(dir.path, {});
    child = run.proc;
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
    dir = tempDir('pce-start-');
    const run = startEntryPoint(dir.path, { HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED_NETWORK: 'true' });
    child = run.proc;
    await run.listening;
    const listening = run.records.find((r) => r.msg === 'bot listening')!;
    expect(listening.reachableFrom).toMatch(/the network/);
    expect(listening.botFrameworkAuth).toMatch(/OFF, and \/api\/messages is open to the network/);
    expect(run.records.some((r) => r.level === 40 && String(r.msg).includes('ALLOW_UNAUTHENTICATED_NETWORK is on'))).toBe(true);
  });
});
