/**
 * The retention job as the running bot starts it: a web chat conversation made over real HTTP (with a
 * message and an uploaded screenshot) is gone, files included, when the bot starts again on the same
 * data with a clock past the retention period.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StartedConversation } from '../channels/directline/harness';
import { dataIn, startApp, stopAfterTest, testDir, type RunningApp } from '../support';

const DAY = 24 * 3600_000;

/** The bot on the data in `dataDir`, retention at 30 days (on `clock`'s time), stopped when the test ends. */
async function boot(dataDir: string, clock?: () => Date): Promise<RunningApp> {
  return stopAfterTest(await startApp({ ...dataIn(dataDir), RETENTION_DAYS: '30' }, clock ? { retention: { clock } } : {}));
}

describe('retention in the running bot', () => {
  it('deletes an idle web chat conversation, its transcript and its uploaded file when it runs at start', async () => {
    const dir = testDir('app-retention-').path;
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
    await first.stop();

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
