/**
 * The bot as `npm start` runs it, as a child process of a test: one node process (tsx as a loader,
 * not its wrapper, so a SIGKILL leaves nothing behind), in a process group of its own so a kill
 * reaches everything it started. Its JSON log lines are collected; `listening` resolves with its URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeEach } from 'vitest';
import { stopAfterTest } from './app';

/** The repository's root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** tsx's loader, by path: the process's working directory may be an empty temp dir. */
export const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/**
 * `npm start` (package.json's script) as arguments of one node process that runs from any directory:
 * tsx's loader and the repository's files named by path. Not the `tsx` CLI: that is a wrapper that
 * runs the bot in a child node process and cannot pass SIGKILL on, so "killing" it would leave the bot running.
 */
export function npmStartArgs(): string[] {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const [node, ...args] = script.trim().split(/\s+/);
  if (node !== 'node') throw new Error(`npm start is no longer "node …" (${script}); update npmStartArgs()`);
  return args.map((arg) => {
    if (arg === 'tsx') return TSX_LOADER;
    const file = join(ROOT, arg);
    return !arg.startsWith('-') && existsSync(file) ? file : arg;
  });
}

export interface BotProcess {
  readonly proc: ChildProcess;
  /** Log records so far. */
  readonly records: Record<string, unknown>[];
  /** The URL once it listens; rejects if it exits first. */
  readonly listening: Promise<string>;
  /** Its exit code (null when a signal ended it), once it has exited and all it wrote has been read. */
  readonly exited: Promise<number | null>;
  /** Everything it wrote so far, standard output and error, as it came. */
  output(): string;
  /** What it wrote to standard error so far. */
  stderr(): string;
  /** Signals the whole process group; resolves once the bot has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGKILL (a test's clean-up: nothing of it may outlive the test). */
  stop(): Promise<void>;
}

/**
 * The environment of a machine with only `env` configured: of this process's own, only PATH, HOME,
 * TMPDIR and LANG. A variable given as `undefined` is not set at all.
 */
export function cleanEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) out[key] = process.env[key];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

/**
 * Starts the bot as `npm start` does (`npmStartArgs`) in `cwd` (its ./data, its missing .env) on
 * port 0 of 127.0.0.1, with `env` (see `cleanEnv`; `HOST: undefined` leaves the host to the bot's default).
 */
export function startBotProcess(cwd: string, env: Record<string, string | undefined> = {}): BotProcess {
  const proc = spawn(process.execPath, npmStartArgs(), {
    cwd,
    env: cleanEnv({ PORT: '0', HOST: '127.0.0.1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const records: Record<string, unknown>[] = [];
  let buffered = '';
  let output = '';
  let stderr = '';
  // 'close', not 'exit': by then all it wrote has been read.
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      buffered += text;
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
    proc.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      stderr += text;
    });
    proc.once('exit', (code) => reject(new Error(`the bot exited with ${code} before listening:\n${stderr}`)));
  });
  listening.catch(() => undefined);
  const kill = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
      try {
        process.kill(-proc.pid, signal);
      } catch {
        // already gone
      }
    }
    await exited;
  };
  return { proc, records, listening, exited, output: () => output, stderr: () => stderr, kill, stop: () => kill('SIGKILL') };
}

export interface BotProcesses {
  /** Starts a bot process (see `startBotProcess`); whatever is left of it is killed when the test ends. */
  start(cwd: string, env?: Record<string, string | undefined>): BotProcess;
  /** Signals every bot process the running test started and has not signalled yet; resolves once all have exited. */
  killAll(signal: NodeJS.Signals): Promise<void>;
}

/** Bot processes for the tests of the enclosing block. */
export function useBotProcesses(): BotProcesses {
  const running: BotProcess[] = [];
  beforeEach(() => void running.splice(0));
  return {
    start(cwd, env) {
      const bot = stopAfterTest(startBotProcess(cwd, env));
      running.push(bot);
      return bot;
    },
    async killAll(signal) {
      for (const bot of running.splice(0)) await bot.kill(signal);
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
