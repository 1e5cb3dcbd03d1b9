/**
 * Issue 14, item 4: parallel uploads to one web chat conversation must not together pass its upload
 * limits (20 parallel 3 MB uploads once stored 16 files / 46 MB against 10 files / 20 MiB). Over real
 * HTTP against the whole bot: on SQLite, and on PostgreSQL with two instances sharing one schema and
 * the upload folder (as behind a load balancer), the uploads split between them.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { dropPostgresSchema, tempDir, TEST_DATABASE_URL, uniqueName, useShared, useTempDir } from '../../support';
import { DirectLineTestClient, startBot, type RunningBot, type StartedConversation } from './harness';

const MAX_FILES = 5;
const MAX_BYTES = 10 * 1024;
const LIMITS = {
  WEBCHAT_MAX_UPLOAD_BYTES: '4096',
  WEBCHAT_MAX_UPLOADS_PER_CONVERSATION: String(MAX_FILES),
  WEBCHAT_MAX_UPLOAD_BYTES_PER_CONVERSATION: String(MAX_BYTES),
};
const PARALLEL = 20;

function uploadForm(size: number, name: string): FormData {
  const form = new FormData();
  form.append('activity', new Blob([JSON.stringify({ type: 'message' })], { type: 'application/vnd.microsoft.activity' }));
  form.append('file', new Blob([new Uint8Array(size).fill(7)], { type: 'image/png' }), name);
  return form;
}

function upload(base: string, c: StartedConversation, size: number, i: number): Promise<number> {
  return fetch(`${base}/directline/conversations/${c.conversationId}/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.token}` },
    body: uploadForm(size, `shot-${i}.png`),
  }).then(async (res) => {
    await res.arrayBuffer();
    return res.status;
  });
}

/** What is on disk for the conversation: files (their data, not sidecars) and bytes. */
function onDisk(uploadDir: string, conversationId: string): { files: number; bytes: number } {
  const dir = join(uploadDir, conversationId);
  const names = (() => {
    try {
      return readdirSync(dir).filter((n) => n.endsWith('.bin'));
    } catch {
      return [];
    }
  })();
  return { files: names.length, bytes: names.reduce((n, f) => n + statSync(join(dir, f)).size, 0) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function dbOf(bot: RunningBot): Kysely<any> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (bot.app.store as unknown as { db: Kysely<any> }).db;
}

async function reserved(bot: RunningBot, conversationId: string): Promise<{ rows: number; files: number; bytes: number }> {
  const rows = await dbOf(bot).selectFrom('webchat_upload_reservations').select(['files', 'bytes']).where('conversation_id', '=', conversationId).execute();
  return { rows: rows.length, files: rows.reduce((n, r) => n + Number(r.files), 0), bytes: rows.reduce((n, r) => n + Number(r.bytes), 0) };
}

interface Deployment {
  /** Where each upload goes (one instance, or alternately two). */
  urls: string[];
  first: RunningBot;
  uploadDir: string;
}

function raceSuite(name: string, deploy: () => Promise<{ deployment: Deployment; stop: () => Promise<void> }>) {
  describe(name, () => {
    const d = useShared(async () => {
      const { deployment, stop } = await deploy();
      return { ...deployment, stop };
    });

    it(`lets ${PARALLEL} parallel uploads store no more files than the conversation may have`, async () => {
      const c = await new DirectLineTestClient(d.urls[0]!).startOk();
      const statuses = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => upload(d.urls[i % d.urls.length]!, c, 1024, i)));

      // 1 KiB each: the file count is the limit that binds.
      expect(statuses.filter((s) => s === 200)).toHaveLength(MAX_FILES);
      expect(statuses.filter((s) => s === 429)).toHaveLength(PARALLEL - MAX_FILES);
      expect(onDisk(d.uploadDir, c.conversationId)).toEqual({ files: MAX_FILES, bytes: MAX_FILES * 1024 });
      expect(await reserved(d.first, c.conversationId)).toEqual({ rows: MAX_FILES, files: MAX_FILES, bytes: MAX_FILES * 1024 });
    });

    it(`lets ${PARALLEL} parallel uploads store no more bytes than the conversation may have`, async () => {
      const c = await new DirectLineTestClient(d.urls[0]!).startOk();
      const size = 3 * 1024;
      const statuses = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => upload(d.urls[i % d.urls.length]!, c, size, i)));

      // 3 KiB each against 10 KiB: three fit, a fourth would pass the byte limit.
      const fit = Math.floor(MAX_BYTES / size);
      expect(statuses.filter((s) => s === 200)).toHaveLength(fit);
      expect(statuses.filter((s) => s === 429)).toHaveLength(PARALLEL - fit);
      const disk = onDisk(d.uploadDir, c.conversationId);
      expect(disk).toEqual({ files: fit, bytes: fit * size });
      expect(disk.bytes).toBeLessThanOrEqual(MAX_BYTES);
      expect(await reserved(d.first, c.conversationId)).toEqual({ rows: fit, files: fit, bytes: fit * size });
    });
  });
}

raceSuite('upload quota under parallel uploads (SQLite)', async () => {
  const bot = await startBot(LIMITS);
  return { deployment: { urls: [bot.url], first: bot, uploadDir: join(bot.dir, 'uploads') }, stop: () => bot.stop() };
});

raceSuite('upload quota under parallel uploads (two instances on one PostgreSQL schema)', async () => {
  const schema = uniqueName('upload_quota');
  const dir = tempDir('upload-quota-pg-');
  const uploadDir = dir.join('uploads');
  const env = { ...LIMITS, DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: '4', WEBCHAT_UPLOAD_DIR: uploadDir };
  const [a, b] = await Promise.all([startBot(env, dir.path), startBot(env, dir.path)]);
  return {
    deployment: { urls: [a.url, b.url], first: a, uploadDir },
    stop: async () => {
      await Promise.all([a.stop(true), b.stop(true)]);
      dir.remove();
      await dropPostgresSchema(schema);
    },
  };
});

describe('an upload that cannot be written', () => {
  const dir = useTempDir('upload-quota-broken-', 'all');
  const bot = useShared(() => {
    // The upload folder's place is taken by a file: every write fails.
    const blocked = dir.join('not-a-folder');
    writeFileSync(blocked, 'x');
    return startBot({ ...LIMITS, WEBCHAT_UPLOAD_DIR: blocked });
  });

  it('gives its reservation back, so failed uploads use up nothing of the limits', async () => {
    const c = await new DirectLineTestClient(bot.url).startOk();
    const statuses = await Promise.all(Array.from({ length: MAX_FILES + 2 }, (_, i) => upload(bot.url, c, 1024, i)));
    // None is accepted. While the first ones hold their reservations, the ones over the limit may be
    // refused (429) instead of failing to write (500): that depends on timing (seen in a loaded run).
    expect(statuses.filter((s) => s !== 500 && s !== 429)).toEqual([]);
    expect(statuses.filter((s) => s === 500).length).toBeGreaterThanOrEqual(MAX_FILES);
    expect(await reserved(bot, c.conversationId)).toEqual({ rows: 0, files: 0, bytes: 0 });
    // Nothing was used up: as many uploads as the limit allows get to try again, all at once.
    const again = await Promise.all(Array.from({ length: MAX_FILES }, (_, i) => upload(bot.url, c, 1024, 100 + i)));
    expect(again).toEqual(again.map(() => 500));
    expect(await reserved(bot, c.conversationId)).toEqual({ rows: 0, files: 0, bytes: 0 });
  });
});
