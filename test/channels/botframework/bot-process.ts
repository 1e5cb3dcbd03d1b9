/**
 * The bot as `npm start` runs it, as a child process of a test: one node process (tsx as a loader,
 * not its wrapper, so a SIGKILL leaves nothing behind), in a process group of its own so a kill
 * reaches everything it started. Its JSON log lines are collected; `listening` resolves with its URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface BotProcess {
  readonly proc: ChildProcess;
  /** Log records so far. */
  readonly records: Record<string, unknown>[];
  /** The URL once it listens; rejects if it exits first. */
  readonly listening: Promise<string>;
  readonly exited: Promise<number | null>;
  /** Signals the whole process group; resolves once the bot has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Env of this process minus everything the bot reads: a machine with only `env` configured. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) env[key] = process.env[key];
  return { ...env, ...extra };
}

export function startBotProcess(cwd: string, env: Record<string, string> = {}): BotProcess {
  const proc = spawn(process.execPath, ['--disable-warning=DEP0111', '--import', TSX, join(ROOT, 'src', 'index.ts')], {
    cwd,
    env: cleanEnv({ PORT: '0', HOST: '127.0.0.1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const records: Record<string, unknown>[] = [];
  let buffered = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        records.push(record);
        if (record.msg === 'bot listening') resolve(String(record.url));
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    proc.once('exit', (code) => reject(new Error(`the bot exited with ${code} before listening:\n${stderr}`)));
  });
  listening.catch(() => undefined);
  return {
    proc,
    records,
    listening,
    exited,
    async kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
        try {
          process.kill(-proc.pid, signal);
        } catch {
          // already gone
        }
      }
      await exited;
    },
  };
}

/** Polls `condition` until it holds (or throws after `timeoutMs`, naming `what`). */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
