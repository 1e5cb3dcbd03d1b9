/**
 * The retention job as the running bot starts it: a web chat conversation made over real HTTP (with a
 * message and an uploaded screenshot) is gone, files included, when the bot starts again on the same
 * data with a clock past the retention period.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApplication, type Application } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import type { StartedConversation } from '../channels/directline/harness';

const DAY = 24 * 3600_000;
let dir: string | undefined;
let running: Application | undefined;

afterEach(async () => {
  await running?.close(5_000);
  running = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function boot(dataDir: string, clock?: () => Date): Promise<{ app: Application; url: string }> {
  const config = loadConfig({ DATABASE_URL: `sqlite:${join(dataDir, 'bot.sqlite')}`, WEBCHAT_UPLOAD_DIR: join(dataDir, 'uploads'), RETENTION_DAYS: '30', LOG_LEVEL: 'silent' });
  const app = await createApplication(config, { logger: createLogger('silent'), processMetrics: false, ...(clock ? { retention: { clock } } : {}) });
  const { url } = await app.listen(0, '127.0.0.1');
  running = app;
  return { app, url };
}

describe('retention in the running bot', () => {
  it('deletes an idle web chat conversation, its transcript and its uploaded file when it runs at start', async () => {
    dir = mkdtempSync(join(tmpdir(), 'app-retention-'));
    const first = await boot(dir);
    const started = await fetch(`${first.url}/directline/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const c = (await started.json()) as StartedConversation;
    const auth = { authorization: `Bearer ${c.token}` };
    const said = await fetch(`${first.url}/directline/conversations/${c.conversationId}/activities`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ type: 'message', text: 'my address is person@example.com' }),
    });
    expect(said.status).toBe(200);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' }), 'shot.png');
    expect((await fetch(`${first.url}/directline/conversations/${c.conversationId}/upload`, { method: 'POST', headers: auth, body: form })).status).toBe(200);
    const key = `directline:${c.conversationId}`;
    expect(await first.app.store.loadTranscript(key)).not.toEqual([]);
    // The first run (real clock) found nothing to delete.
    await first.app.retention!.settled();
    expect(readdirSync(join(dir, 'uploads'))).toEqual([c.conversationId]);
    await first.app.close(5_000);
    running = undefined;

    const later = new Date(Date.now() + 31 * DAY);
    const second = await boot(dir, () => later);
    await second.app.retention!.settled();
    expect(await second.app.store.loadConversation(key)).toBeUndefined();
    expect(await second.app.store.loadTranscript(key)).toEqual([]);
    expect(existsSync(join(dir, 'uploads', c.conversationId))).toBe(false);
    const gone = await fetch(`${second.url}/directline/conversations/${c.conversationId}/activities?watermark=`, { headers: auth });
    expect(gone.status).toBe(404);
  });
});
