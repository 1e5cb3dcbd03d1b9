/**
 * The retention job on a real SQLite file and a real PostgreSQL schema, with a fixed clock: what is
 * idle longer than RETENTION_DAYS goes (conversation, transcript, web chat activities, uploads on
 * disk, a forgotten language); recent data, cases and funnel events stay.
 */
import { existsSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/storage/schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlActivityLog } from '../../src/channels/directline/sql-activity-log';
import { UploadStore } from '../../src/channels/directline/uploads';
import { RetentionJob } from '../../src/retention/retention-job';
import { activeDay } from '../../src/storage/turn-sql';
import type { SqlStore } from '../../src/storage/index';
import { CaseRepository } from '../../src/cases/repository';
import { seedCase } from '../cases/helpers';
import { conversation, deferred, postgresHarness, sqliteHarness, type StoreHarness } from '../storage/harness';
import { silentLogger, testDir, uniqueName } from '../support';

const NOW = new Date('2027-06-01T12:00:00.000Z');
const DAY = 24 * 3600_000;
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY).toISOString();
const OLD = daysAgo(120);
const RECENT = daysAgo(2);

function hexId(): string {
  return uniqueName('x').slice(2).padEnd(24, '0').replace(/[^0-9a-f]/g, '0');
}

/** Sets the modification time of a conversation's upload folder and everything in it. */
function touchFolder(root: string, id: string, at: string): void {
  const dir = join(root, id);
  const t = new Date(at);
  for (const name of readdirSync(dir)) utimesSync(join(dir, name), t, t);
  utimesSync(dir, t, t);
}

const dialects: [string, () => StoreHarness][] = [
  ['SQLite', sqliteHarness],
  ['PostgreSQL', postgresHarness],
];

describe.each(dialects)('retention on %s', (_name, makeHarness) => {
  let harness: StoreHarness;
  let store: SqlStore;
  let uploadDir: string;
  let uploads: UploadStore;
  let log: SqlActivityLog;

  beforeEach(async () => {
    harness = makeHarness();
    store = await harness.open();
    uploadDir = testDir('retention-uploads-').path;
    uploads = new UploadStore(uploadDir, 1024 * 1024);
    log = new SqlActivityLog(store);
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  function job(): RetentionJob {
    return new RetentionJob({ store, uploads, retentionDays: 90, intervalMs: 3600_000, logger: silentLogger, clock: () => NOW, batchSize: 2 });
  }

  async function commitAt(key: string, at: string, text: string): Promise<void> {
    await store.commitTurn({
      conversation: conversation(key, 1, { createdAt: at, updatedAt: at }),
      transcript: [{ at, from: 'user', text }],
      funnel: [{ at, conversationKey: key, channel: key.split(':')[0]!, locale: 'en', mode: 'self', kind: 'started', step: 'entry' }],
    });
  }

  /** A later turn of a stored conversation, at `at`. */
  async function commitTurnAt(key: string, turn: number, at: string): Promise<void> {
    const stored = await store.loadConversation(key);
    await store.commitTurn({ conversation: conversation(key, turn, { createdAt: stored!.createdAt, updatedAt: at }), transcript: [{ at, from: 'user', text: 'again' }] });
  }

  /** A web chat conversation with one activity at `activityAt`, its engine conversation, and one uploaded file. */
  async function webChat(createdAt: string, activityAt: string): Promise<string> {
    const id = hexId();
    await log.createConversation({ id, secretHash: 'a'.repeat(64), userId: `wc_${id}`, createdAt });
    await store.db
      .withTables<{ directline_activities: { conversation_id: string; seq: number; client_activity_id: string | null; activity: string; created_at: string } }>()
      .insertInto('directline_activities')
      .values({
        conversation_id: id,
        seq: 1,
        client_activity_id: null,
        activity: JSON.stringify({ id: `${id}|0000001`, type: 'message', timestamp: activityAt, text: 'my email is person@example.com' }),
        created_at: activityAt,
      })
      .execute();
    await commitAt(`directline:${id}`, activityAt, 'person@example.com');
    await uploads.save(id, { name: 'shot.png', contentType: 'image/png', data: new Uint8Array([1, 2, 3]) }, new Date(activityAt));
    touchFolder(uploadDir, id, activityAt);
    return id;
  }

  it('deletes an idle conversation with its transcript and keeps its funnel events', async () => {
    await commitAt('teams:old', OLD, 'old@example.com');
    const report = await job().runOnce();
    expect(await store.loadConversation('teams:old')).toBeUndefined();
    expect(await store.loadTranscript('teams:old')).toEqual([]);
    const funnel = await store.db.selectFrom('funnel_events').select('conversation_key').where('conversation_key', '=', 'teams:old').execute();
    expect(funnel).toHaveLength(1);
    expect(report).toMatchObject({ conversations: 1, transcriptEntries: 1 });
  });

  it('keeps a conversation active within the retention period', async () => {
    await commitAt('teams:recent', RECENT, 'recent@example.com');
    await commitAt('webex:edge', daysAgo(89), 'edge@example.com');
    await job().runOnce();
    expect((await store.loadConversation('teams:recent'))?.updatedAt).toBe(RECENT);
    expect(await store.loadTranscript('teams:recent')).toHaveLength(1);
    expect(await store.loadConversation('webex:edge')).toBeDefined();
  });

  it('tells idle from active at the cutoff itself, on the cutoff\'s own day', async () => {
    const cutoff = NOW.getTime() - 90 * DAY;
    await commitAt('teams:just-idle', new Date(cutoff - 1).toISOString(), 'idle@example.com');
    await commitAt('teams:just-active', new Date(cutoff + 1).toISOString(), 'active@example.com');
    await job().runOnce();
    expect(await store.loadConversation('teams:just-idle')).toBeUndefined();
    expect(await store.loadConversation('teams:just-active')).toBeDefined();
  });

  it('keeps a conversation idle for months that came back today, and deletes one whose later turns were all on its first day', async () => {
    await commitAt('teams:back', OLD, 'back@example.com');
    await commitTurnAt('teams:back', 2, NOW.toISOString());
    await commitAt('teams:one-day', OLD, 'one-day@example.com');
    await commitTurnAt('teams:one-day', 2, new Date(Date.parse(OLD) + 3600_000).toISOString());
    await job().runOnce();
    expect((await store.loadConversation('teams:back'))?.turn).toBe(2);
    expect(await store.loadConversation('teams:one-day')).toBeUndefined();
  });

  it('keeps the case of a deleted conversation', async () => {
    const opened = await seedCase(store, { createdAt: OLD });
    await store.db.updateTable('conversations').set({ updated_at: OLD, active_day: activeDay(OLD) }).where('key', '=', opened.conversationKey).execute();
    await job().runOnce();
    expect(await store.loadConversation(opened.conversationKey)).toBeUndefined();
    const kept = await new CaseRepository(store).findByReference(opened.reference);
    expect(kept?.reference).toBe(opened.reference);
    expect(kept?.newContactEmail).toBe(opened.newContactEmail);
  });

  it('deletes an idle web chat conversation with its activities and its files on disk', async () => {
    const old = await webChat(OLD, daysAgo(100));
    const report = await job().runOnce();
    expect(await log.getConversation(old)).toBeUndefined();
    expect(await log.since(old, 0, 10)).toEqual([]);
    expect(await store.loadConversation(`directline:${old}`)).toBeUndefined();
    expect(existsSync(join(uploadDir, old))).toBe(false);
    expect(report).toMatchObject({ webChatConversations: 1, webChatActivities: 1, uploadFolders: 1 });
  });

  it('keeps a web chat conversation that started long ago but was used recently, with its files', async () => {
    const used = await webChat(OLD, RECENT);
    await job().runOnce();
    expect(await log.getConversation(used)).toBeDefined();
    expect(await log.since(used, 0, 10)).toHaveLength(1);
    expect(await store.loadConversation(`directline:${used}`)).toBeDefined();
    expect(await uploads.list(used)).toHaveLength(1);
  });

  it('deletes upload folders of conversations no longer in the database once they are old, not before', async () => {
    const orphanOld = hexId();
    const orphanRecent = hexId();
    await uploads.save(orphanOld, { name: 'a.png', contentType: 'image/png', data: new Uint8Array([1]) }, new Date(OLD));
    await uploads.save(orphanRecent, { name: 'b.png', contentType: 'image/png', data: new Uint8Array([2]) }, new Date(RECENT));
    touchFolder(uploadDir, orphanOld, OLD);
    touchFolder(uploadDir, orphanRecent, RECENT);
    await job().runOnce();
    expect(existsSync(join(uploadDir, orphanOld))).toBe(false);
    expect(existsSync(join(uploadDir, orphanRecent))).toBe(true);
  });

  it('forgets a language not set for the retention period and keeps a recent one', async () => {
    const locales = store.db.withTables<{ user_locales: { user_key: string; locale: string; updated_at: string } }>();
    await locales.insertInto('user_locales').values([
      { user_key: 'webex:old@example.com', locale: 'uk', updated_at: OLD },
      { user_key: 'webex:new@example.com', locale: 'uk', updated_at: RECENT },
    ]).execute();
    await job().runOnce();
    expect(await store.getUserLocale('webex:old@example.com')).toBeUndefined();
    expect(await store.getUserLocale('webex:new@example.com')).toBe('uk');
  });

  it('deletes every idle conversation across several batches', async () => {
    for (let i = 0; i < 5; i += 1) await commitAt(`teams:batch-${i}`, OLD, `t${i}`);
    const report = await job().runOnce();
    expect(report.conversations).toBe(5);
    const left = await store.db.selectFrom('conversations').select('key').where('key', 'like', 'teams:batch-%').execute();
    expect(left).toEqual([]);
  });

  it('keeps the conversation a turn in progress makes active again (SQLite: with its older transcript)', async () => {
    await commitAt('teams:busy', OLD, 'busy@example.com');
    const inTurn = deferred();
    const release = deferred();
    const turn = store.runExclusive('teams:busy', async () => {
      inTurn.resolve();
      await release.promise;
      await store.commitTurn({
        conversation: conversation('teams:busy', 2, { createdAt: OLD, updatedAt: NOW.toISOString() }),
        transcript: [{ at: NOW.toISOString(), from: 'user', text: 'back again' }],
      });
    });
    await inTurn.promise;
    const run = job().runOnce();
    // PostgreSQL: the run is over before the turn commits (it does not wait for turns).
    if (store.kind === 'postgres') expect((await run).conversations).toBe(1);
    release.resolve();
    await Promise.all([turn, run]);
    expect((await store.loadConversation('teams:busy'))?.turn).toBe(2);
    // SQLite waits for the turn (one process, the engine's lock). PostgreSQL turns hold no lock while
    // they run: the idle conversation may go, and the turn's commit stores it again from there on.
    expect((await store.loadTranscript('teams:busy')).map((e) => e.text)).toEqual(
      store.kind === 'sqlite' ? ['busy@example.com', 'back again'] : ['back again'],
    );
  });

  it('keeps an idle web chat conversation, and its files, that a turn in progress brings back', async () => {
    const id = await webChat(OLD, daysAgo(100));
    const inTurn = deferred();
    const release = deferred();
    type Tables = {
      directline_conversations: { id: string };
      directline_activities: { conversation_id: string; seq: number; client_activity_id: string | null; activity: string; created_at: string };
    };
    const append = (db: Kysely<Database & Tables>) =>
      db
        .insertInto('directline_activities')
        .values({ conversation_id: id, seq: 2, client_activity_id: null, activity: JSON.stringify({ id: `${id}|0000002`, type: 'message', timestamp: NOW.toISOString() }), created_at: NOW.toISOString() })
        .execute();
    const turn = store.runExclusive(`directline:${id}`, async () => {
      if (store.kind === 'sqlite') {
        // SQLite: the run waits for the engine's conversation lock, held here.
        inTurn.resolve();
        await release.promise;
        await append(store.db.withTables<Tables>());
        return;
      }
      // PostgreSQL: an appender holds the conversation's row (as the activity log's append does) from
      // before the run starts, so the run's look under the lock comes after the new activity.
      await store.db.withTables<Tables>().transaction().execute(async (trx) => {
        await trx.selectFrom('directline_conversations').select('id').where('id', '=', id).forUpdate().execute();
        inTurn.resolve();
        await release.promise;
        await append(trx);
      });
    });
    await inTurn.promise;
    const run = job().runOnce();
    release.resolve();
    const [, report] = await Promise.all([turn, run]);
    expect(report.webChatConversations).toBe(0);
    expect(await log.getConversation(id)).toBeDefined();
    expect(await log.since(id, 0, 10)).toHaveLength(2);
    expect(await uploads.list(id)).toHaveLength(1);
  });

  it('is idempotent: a second run finds nothing more to delete', async () => {
    await commitAt('teams:once', OLD, 'once');
    await webChat(OLD, daysAgo(100));
    await job().runOnce();
    const again = await job().runOnce();
    expect(again).toMatchObject({ conversations: 0, webChatConversations: 0, uploadFolders: 0, userLocales: 0 });
  });
});

describe('retention on PostgreSQL with two instances', () => {
  it('deletes each idle conversation once when both run at the same time', async () => {
    const harness = postgresHarness();
    const uploadDir = testDir('retention-uploads-').path;
    try {
      const a = await harness.open();
      const b = await harness.open();
      for (let i = 0; i < 20; i += 1) {
        const at = OLD;
        await a.commitTurn({ conversation: conversation(`teams:pair-${i}`, 1, { createdAt: at, updatedAt: at }), transcript: [{ at, from: 'user', text: `t${i}` }] });
      }
      await a.commitTurn({ conversation: conversation('teams:pair-recent', 1, { createdAt: RECENT, updatedAt: RECENT }), transcript: [] });
      const make = (store: SqlStore) =>
        new RetentionJob({ store, uploads: new UploadStore(uploadDir, 1024), retentionDays: 90, intervalMs: 3600_000, logger: silentLogger, clock: () => NOW, batchSize: 3 });
      const [ra, rb] = await Promise.all([make(a).runOnce(), make(b).runOnce()]);
      expect(ra.conversations + rb.conversations).toBe(20);
      expect(ra.transcriptEntries + rb.transcriptEntries).toBe(20);
      const left = await a.db.selectFrom('conversations').select('key').where('key', 'like', 'teams:pair-%').execute();
      expect(left.map((r) => r.key)).toEqual(['teams:pair-recent']);
    } finally {
      await harness.cleanup();
    }
  });
});
