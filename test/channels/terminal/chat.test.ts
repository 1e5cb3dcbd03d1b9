/**
 * `npm run chat` as a person meets it: the real entry point in a child process, on a real SQLite
 * file in a temp dir, with stdin piped (a script) or fed line by line as someone typing.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testDir } from '../../support';

const ROOT = resolve(__dirname, '../../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = join(ROOT, 'src', 'channels', 'terminal', 'main.ts');
const HINTS = ['(Type a number or your answer.)', '(Напишіть номер або відповідь.)'];
function start(args: string[]) {
  const dir = testDir('pc-chat-').path;
  const env = { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'bot.sqlite')}`, NODE_ENV: 'test' };
  const child = spawn(TSX, [MAIN, ...args], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

/** Feeds the whole script at once and closes stdin (`cat script | npm run chat`). */
async function piped(args: string[], lines: string[]) {
  const p = start(args);
  p.child.stdin.end(lines.map((l) => `${l}\n`).join(''));
  const code = await p.exited;
  return { code, stdout: p.out(), stderr: p.err() };
}

const hintCount = (s: string) => HINTS.reduce((n, h) => n + s.split(h).length - 1, 0);

/** Types one line at a time, each only after the bot has answered the previous one. */
async function typed(args: string[], lines: string[]) {
  const p = start(args);
  const waitForAnswers = async (n: number) => {
    while (hintCount(p.out()) < n) await new Promise((r) => p.child.stdout.once('data', r));
  };
  await waitForAnswers(1);
  for (const [i, line] of lines.entries()) {
    p.child.stdin.write(`${line}\n`);
    await waitForAnswers(i + 2);
  }
  p.child.stdin.end();
  const code = await p.exited;
  return { code, stdout: p.out(), stderr: p.err() };
}

const script = ['2', "it's closd", 'back', 'pending', 'help', "I don't have access"];

// Each case starts the real entry point (tsx compiles the app first): generous time, no timing asserted.
describe('npm run chat', { timeout: 90_000 }, () => {
  it('walks a scripted conversation from piped stdin and ends cleanly at end of input', async () => {
    const { code, stdout, stderr } = await piped(['--lang', 'en'], script);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const order = [
      'What do you need?',
      '  1. The provisioning email never arrived',
      '> 2',
      'What is the status of the order line in CCW?',
      "> it's closd",
      '(7 days for A-Flex',
      '> back',
      'What is the status of the order line in CCW?',
      '> pending',
      'Can you edit this order in CCW?',
      '> help',
      'Only people with access to the order in CCW can edit it',
      "> I don't have access",
      'Could you please update the Provisioning Contact Email',
      '  1. Start over',
      '  2. Talk to support',
      'Bye!',
    ];
    let from = 0;
    for (const expected of order) {
      const at = stdout.indexOf(expected, from);
      expect(at, `"${expected}" after position ${from}`).toBeGreaterThanOrEqual(from);
      from = at + expected.length;
    }
  });

  it('gives a piped script exactly the answers a person typing line by line gets', async () => {
    const [a, b] = await Promise.all([piped(['--lang', 'en'], script), typed(['--lang', 'en'], script)]);
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });

  it('speaks Ukrainian with --lang uk, understands Ukrainian answers and switches language on request', async () => {
    const { code, stdout } = await piped(['--lang', 'uk'], ['1', 'ні', 'мова', 'не знаю', 'вихід', '1']);
    expect(code).toBe(0);
    expect(stdout).toContain('Чим можу допомогти?');
    expect(stdout).toContain('Лист знайшовся?');
    expect(stdout).toContain('Який статус має рядок замовлення в CCW?');
    expect(stdout).toContain('Switched to English.');
    expect(stdout).toContain('Which status does the line show?');
    // "вихід" ends the chat: the line after it is never answered.
    expect(stdout.trimEnd().endsWith('Bye! Type npm run chat to start again.')).toBe(true);
    expect(stdout).not.toContain('> 1\n\nThe provisioning email goes');
  });

  it('presses an option by its number, including a final state\'s "start over"', async () => {
    const { stdout } = await piped(['--lang', 'en'], ['1', '1', '1']);
    expect(stdout).toContain('Great! The provisioning contact can now open the email');
    expect(stdout.split('What do you need?').length - 1).toBe(2);
    expect(stdout).toContain("Let's start over.");
  });

  it('ends cleanly on Ctrl+C (SIGINT), closing storage on the way out', async () => {
    const p = start(['--lang', 'en']);
    while (hintCount(p.out()) < 1) await new Promise((r) => p.child.stdout.once('data', r));
    p.child.kill('SIGINT');
    await p.exited;
    expect(p.out().trimEnd().endsWith('Bye! Type npm run chat to start again.')).toBe(true);
    expect(p.err()).toBe('');
  });

  it('refuses an unknown --lang with the usage and exit code 64', async () => {
    const { code, stderr, stdout } = await piped(['--lang', 'fr'], []);
    expect(code).toBe(64);
    expect(stderr).toContain('Usage: npm run chat');
    expect(stdout).toBe('');
  });
});
