/**
 * The durable echo (`npm run bench -- --durable-echo`): the echo bot that keeps every turn in SQLite
 * before it answers, as the floor a durable bot stands on. What it stores must be there when it has
 * answered, and a repeated activity is stored once.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, TSX_LOADER } from '../support/process';
import { testDir } from '../support/temp';

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function startDurableEcho(file: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'bench', 'reference-bot.ts'), '--port', '0', '--sqlite', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`durable echo exited (${code})`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      const m = /\{"listening":(\d+)\}/.exec(chunk.toString());
      if (m) resolve(Number(m[1]));
    });
  });
  return `http://127.0.0.1:${port}`;
}

const activity = (id: string, text: string) => ({
  type: 'message',
  id,
  channelId: 'msteams',
  serviceUrl: 'http://127.0.0.1:9/',
  from: { id: 'u1' },
  recipient: { id: 'bot' },
  conversation: { id: 'c1' },
  text,
  deliveryMode: 'expectReplies',
});

describe('the durable echo', () => {
  it('has stored each turn when it answers, a repeated activity once, and counts the conversation', async () => {
    const file = testDir('durable-echo-').join('echo.sqlite');
    const url = await startDurableEcho(file);
    const post = (body: unknown) => fetch(`${url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const first = await post(activity('a1', 'hello'));
    expect(first.status).toBe(200);
    expect(JSON.stringify(await first.json())).toContain('Echo: hello');
    await post(activity('a2', 'again'));
    await post(activity('a2', 'again'));

    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT activity_id FROM turns ORDER BY activity_id').all()).toEqual([{ activity_id: 'a1' }, { activity_id: 'a2' }]);
      expect(db.prepare('SELECT turns FROM conversations WHERE id = ?').get('c1')).toEqual({ turns: 3 });
    } finally {
      db.close();
    }
  });
});
