/**
 * How long a retention run takes: seeds N idle conversations (6 transcript entries each) and N/5 idle
 * web chat conversations (3 activities and an uploaded file each) into a fresh store, then times one
 * `RetentionJob.runOnce()`.
 *
 *   npx tsx bench/retention.ts [--dialect sqlite|postgres] [--conversations 5000] [--web-chats 1000] [--pg-url URL]
 *
 * PostgreSQL: `--pg-url` (default postgres://postgres@127.0.0.1:5432/test) is the admin connection; the
 * run works in a database of its own, dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UploadStore } from '../src/channels/directline/uploads';
import { createLogger } from '../src/log';
import { RetentionJob } from '../src/retention/retention-job';
import { SqlStore } from '../src/storage/index';
import { createBenchDatabase, type BenchDatabase } from './lib/postgres';

const { values } = parseArgs({
  options: {
    dialect: { type: 'string', default: 'sqlite' },
    conversations: { type: 'string', default: '5000' },
    /** Idle web chat conversations (default: a fifth of --conversations). */
    'web-chats': { type: 'string' },
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const N = Number(values.conversations);
const OLD = '2026-01-01T00:00:00.000Z';
const NOW = new Date('2026-11-25T00:00:00.000Z');
const logger = createLogger('silent');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-retention-'));
  let database: BenchDatabase | undefined;
  try {
    if (values.dialect === 'postgres') {
      database = await createBenchDatabase(values['pg-url'], 'retention');
    }
    const store = database
      ? new SqlStore({ dialect: 'postgres', url: database.url }, logger, { poolSize: 4 })
      : new SqlStore({ dialect: 'sqlite', path: join(dir, 'bot.sqlite') }, logger);
    await store.open();
    const uploads = new UploadStore(join(dir, 'uploads'), 1024 * 1024);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const db = store.db as any;
    for (let i = 0; i < N; i += 500) {
      const keys = Array.from({ length: Math.min(500, N - i) }, (_, j) => `teams:c${i + j}`);
      await db.insertInto('conversations').values(keys.map((key) => ({ key, channel: 'teams', flow_id: 'f', flow_version: 1, snapshot: '{}', parents: '[]', locale: 'en', turn: 1, user_id: 'u', created_at: OLD, updated_at: OLD }))).execute();
      await db.insertInto('transcript_entries').values(keys.flatMap((k) => [0, 1, 2, 3, 4, 5].map((n) => ({ conversation_key: k, at: OLD, sender: n % 2 ? 'bot' : 'user', text: `text ${n}` })))).execute();
    }
    const webChats = values['web-chats'] !== undefined ? Number(values['web-chats']) : Math.ceil(N / 5);
    for (let i = 0; i < webChats; i += 1) {
      const id = `${i.toString(16).padStart(16, '0')}deadbeef`;
      await db.insertInto('directline_conversations').values({ id, secret_hash: 'x', user_id: 'wc_x', locale: null, created_at: OLD }).execute();
      await db.insertInto('directline_activities').values([1, 2, 3].map((seq) => ({ conversation_id: id, seq, client_activity_id: null, activity: '{}', created_at: OLD }))).execute();
      await uploads.save(id, { name: 'a.png', contentType: 'image/png', data: new Uint8Array(512) }, new Date(OLD));
    }
    const job = new RetentionJob({ store, uploads, retentionDays: 90, intervalMs: 3600_000, logger, clock: () => NOW });
    const started = performance.now();
    const report = await job.runOnce();
    const ms = performance.now() - started;
    const rows = report.conversations + report.webChatConversations;
    process.stdout.write(
      `${JSON.stringify({ dialect: store.kind, ...report, ms: Math.round(ms), msPerConversation: Number((ms / Math.max(1, rows)).toFixed(3)) })}\n`,
    );
    await store.close();
  } finally {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
