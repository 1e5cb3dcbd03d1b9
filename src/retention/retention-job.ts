/**
 * Retention of personal data: conversations idle longer than RETENTION_DAYS are deleted with their
 * transcript; web chat (Direct Line) conversations whose last activity is that old are deleted with
 * their activities and uploaded files; a language a person picked and has not touched for as long is
 * forgotten. Cases are kept (they are the record) and so are funnel events (no personal data).
 * Re-delivery marks live in the conversation row and go with it (the store prunes the old table).
 *
 * Turns in progress. SQLite (one process): a conversation is deleted under the engine's in-process
 * conversation lock, so never while a turn of it runs. PostgreSQL (several instances): in batches;
 * turns hold no lock while they run (the store's concurrency is optimistic), so an idle conversation
 * may be deleted just as its person comes back. That turn goes on from the state it loaded and its
 * commit stores the conversation again, with the transcript from that turn on; what was deleted was
 * past the retention period. Deletes are conditional and idempotent: several instances running at
 * once delete each row once, and a run cut short is finished by the next one. Uploads live on each
 * instance's own disk: every instance sweeps its own folder and deletes the files of web chat
 * conversations that are no longer in the database and have not changed for the retention period.
 */
import { sql, type Kysely } from 'kysely';
import type { Logger } from '../log';
import type { Store } from '../storage/store';
import { activeDay } from '../storage/turn-sql';

/** What the job needs of the store (`SqlStore` has it). */
export type RetentionStore = Pick<Store, 'kind' | 'runExclusive'> & {
  // The job declares the columns it touches; the store's own table types do not matter here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly db: Kysely<any>;
};

/** What the job needs of the web chat's file store (`UploadStore` has it). */
export interface RetentionUploads {
  conversationIds(): Promise<string[]>;
  lastModified(conversationId: string): Promise<Date | undefined>;
  remove(conversationId: string): Promise<boolean>;
}

export interface RetentionOptions {
  store: RetentionStore;
  uploads?: RetentionUploads;
  retentionDays: number;
  /** Pause between runs; the first run starts at `start()`. */
  intervalMs: number;
  logger: Logger;
  clock?: () => Date;
  /** Rows looked at per query (default 500). */
  batchSize?: number;
}

export interface RetentionReport {
  /** The instant before which activity counts as idle. */
  cutoff: string;
  conversations: number;
  transcriptEntries: number;
  webChatConversations: number;
  webChatActivities: number;
  userLocales: number;
  uploadFolders: number;
}

const DAY_MS = 24 * 3600_000;
/** Conversation keys the engine gives web chat conversations: `directline:<Direct Line id>`. */
const DIRECTLINE_KEY_PREFIX = 'directline:';

export class RetentionJob {
  private readonly clock: () => Date;
  private readonly batchSize: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<RetentionReport | undefined>;
  private stopping = false;

  constructor(private readonly opts: RetentionOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.batchSize = opts.batchSize ?? 500;
  }

  /** Runs now and then every `intervalMs` until `stop()`. A failed run is logged and retried at the next tick. */
  start(): void {
    if (this.timer) return;
    this.stopping = false;
    const tick = () => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch((err) => {
          this.opts.logger.error({ err }, 'retention run failed');
          return undefined;
        })
        .finally(() => {
          this.running = undefined;
        });
    };
    this.timer = setInterval(tick, this.opts.intervalMs);
    this.timer.unref();
    tick();
  }

  /** Resolves when the run in progress (if any) has finished; the schedule goes on. */
  async settled(): Promise<void> {
    await this.running;
  }

  /** No new runs; waits for a run in progress to stop at its next batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over everything older than the retention period (as of the clock's now). */
  async runOnce(): Promise<RetentionReport> {
    const cutoff = new Date(this.clock().getTime() - this.opts.retentionDays * DAY_MS);
    const report: RetentionReport = {
      cutoff: cutoff.toISOString(),
      conversations: 0,
      transcriptEntries: 0,
      webChatConversations: 0,
      webChatActivities: 0,
      userLocales: 0,
      uploadFolders: 0,
    };
    const removedWebChat: string[] = [];
    await this.deleteConversations(cutoff, report);
    await this.deleteWebChatConversations(cutoff, report, removedWebChat);
    await this.deleteUserLocales(cutoff, report);
    await this.deleteUploads(cutoff, report, removedWebChat);
    const deleted = report.conversations + report.webChatConversations + report.userLocales + report.uploadFolders;
    this.opts.logger[deleted ? 'info' : 'debug']({ ...report, retentionDays: this.opts.retentionDays }, 'retention run finished');
    return report;
  }

  private get db(): Kysely<RetentionDatabase> {
    return this.opts.store.db as Kysely<RetentionDatabase>;
  }

  /** Idle conversations and their transcripts, each under its conversation lock. */
  private async deleteConversations(cutoff: Date, report: RetentionReport): Promise<void> {
    const before = cutoff.toISOString();
    // `active_day` is indexed (it never leads `updated_at`, migration 0023); `updated_at` decides.
    const lastDay = activeDay(before);
    // Keyset pagination: a conversation that became active during the run is skipped, not revisited.
    let after = '';
    while (!this.stopping) {
      const keys = (
        await this.db
          .selectFrom('conversations')
          .select('key')
          .where('active_day', '<=', lastDay)
          .where('updated_at', '<', before)
          .where('key', '>', after)
          .orderBy('key')
          .limit(this.batchSize)
          .execute()
      ).map((r) => r.key);
      if (!keys.length) return;
      after = keys.at(-1)!;
      if (this.opts.store.kind === 'postgres') {
        await this.deletePostgresBatch(keys, before, report);
        continue;
      }
      for (const key of keys) {
        if (this.stopping) return;
        await this.opts.store.runExclusive(key, async () => {
          await this.db.transaction().execute(async (trx) => {
            const gone = await trx.deleteFrom('conversations').where('key', '=', key).where('updated_at', '<', before).returning('key').execute();
            if (!gone.length) return;
            report.conversations += 1;
            report.transcriptEntries += await this.deleteDependents(trx, [key]);
          });
        });
      }
    }
  }

  /** PostgreSQL, a batch in one transaction: the conversations still idle, with what belongs to them. */
  private async deletePostgresBatch(keys: string[], before: string, report: RetentionReport): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ key: string }>`
        delete from conversations as c
        where c.key = any(${keys}::text[]) and c.updated_at < ${before}::timestamptz
        returning c.key`.execute(trx);
      if (!rows.length) return;
      report.conversations += rows.length;
      report.transcriptEntries += await this.deleteDependents(
        trx,
        rows.map((r) => r.key),
      );
    });
  }

  /** What belongs to deleted conversations; returns the number of transcript entries deleted. */
  private async deleteDependents(trx: Kysely<RetentionDatabase>, keys: string[]): Promise<number> {
    const entries = await trx.deleteFrom('transcript_entries').where('conversation_key', 'in', keys).executeTakeFirst();
    // The Bot Framework channel's reference (the person's name and ids) and replies never delivered.
    await trx.deleteFrom('conversation_references').where('conversation_key', 'in', keys).execute();
    await trx.deleteFrom('undelivered_replies').where('conversation_key', 'in', keys).execute();
    // Replies kept with their turns (what the bot said, cases included).
    await trx.deleteFrom('bot_replies').where('conversation_key', 'in', keys).execute();
    return Number(entries.numDeletedRows);
  }

  /**
   * Web chat conversations that started before the cutoff and have no activity since, with their
   * activities. The engine conversation of the same id goes too, whatever its age would say.
   */
  private async deleteWebChatConversations(cutoff: Date, report: RetentionReport, removed: string[]): Promise<void> {
    const before = cutoff.toISOString();
    const idle = (db: Kysely<RetentionDatabase>, ids?: string[]) => {
      let q = db
        .selectFrom('directline_conversations as dc')
        .select('dc.id')
        .where('dc.created_at', '<', before)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('directline_activities as a').select('a.seq').whereRef('a.conversation_id', '=', 'dc.id').where('a.created_at', '>=', before))),
        );
      if (ids) q = q.where('dc.id', 'in', ids);
      return q;
    };
    /** Deletes those of `ids` still idle, with everything of theirs; returns the ids deleted. */
    const postgres = this.opts.store.kind === 'postgres';
    const deleteIdle = async (trx: Kysely<RetentionDatabase>, ids: string[]): Promise<string[]> => {
      let candidates = ids;
      if (postgres) {
        // Appenders lock the conversation row first: wait for any in progress, keep new ones out.
        candidates = (await trx.selectFrom('directline_conversations').select('id').where('id', 'in', ids).forUpdate().execute()).map((r) => r.id);
        if (!candidates.length) return [];
      }
      // Looked at again under the locks: an activity that arrived since the first look keeps it.
      const gone = (await idle(trx, candidates).execute()).map((r) => r.id);
      if (!gone.length) return [];
      const keys = gone.map((id) => `${DIRECTLINE_KEY_PREFIX}${id}`);
      const activities = await trx.deleteFrom('directline_activities').where('conversation_id', 'in', gone).executeTakeFirst();
      await trx.deleteFrom('directline_conversations').where('id', 'in', gone).execute();
      const conversations = await trx.deleteFrom('conversations').where('key', 'in', keys).executeTakeFirst();
      report.webChatConversations += gone.length;
      report.webChatActivities += Number(activities.numDeletedRows);
      report.conversations += Number(conversations.numDeletedRows);
      report.transcriptEntries += await this.deleteDependents(trx, keys);
      return gone;
    };
    let after = '';
    while (!this.stopping) {
      const ids = (await idle(this.db).where('dc.id', '>', after).orderBy('dc.id').limit(this.batchSize).execute()).map((r) => r.id);
      if (!ids.length) return;
      after = ids.at(-1)!;
      if (postgres) {
        removed.push(...(await this.db.transaction().execute((trx) => deleteIdle(trx, ids))));
        continue;
      }
      for (const id of ids) {
        if (this.stopping) return;
        // The engine's conversation lock for this web chat conversation: no turn of it runs meanwhile.
        const gone = await this.opts.store.runExclusive(`${DIRECTLINE_KEY_PREFIX}${id}`, () =>
          this.db.transaction().execute((trx) => deleteIdle(trx, [id])),
        );
        removed.push(...gone);
      }
    }
  }

  private async deleteUserLocales(cutoff: Date, report: RetentionReport): Promise<void> {
    const result = await this.db.deleteFrom('user_locales').where('updated_at', '<', cutoff.toISOString()).executeTakeFirst();
    report.userLocales += Number(result.numDeletedRows);
  }

  /**
   * Files of the web chat conversations deleted in this run, then any folder on this instance's disk
   * whose conversation is no longer in the database (deleted by another instance, or long ago) and
   * that has not changed since the cutoff.
   */
  private async deleteUploads(cutoff: Date, report: RetentionReport, removed: string[]): Promise<void> {
    const uploads = this.opts.uploads;
    if (!uploads) return;
    for (const id of removed) if (await uploads.remove(id)) report.uploadFolders += 1;
    const folders = await uploads.conversationIds();
    for (let i = 0; i < folders.length && !this.stopping; i += this.batchSize) {
      const batch = folders.slice(i, i + this.batchSize);
      const known = new Set(
        (await this.db.selectFrom('directline_conversations').select('id').where('id', 'in', batch).execute()).map((r) => r.id),
      );
      for (const id of batch) {
        if (known.has(id)) continue;
        const changed = await uploads.lastModified(id);
        if (changed && changed < cutoff && (await uploads.remove(id))) report.uploadFolders += 1;
      }
    }
  }
}

interface RetentionDatabase {
  conversations: { key: string; updated_at: string; active_day: number };
  transcript_entries: { conversation_key: string };
  conversation_references: { conversation_key: string };
  undelivered_replies: { conversation_key: string };
  bot_replies: { conversation_key: string };
  directline_conversations: { id: string; created_at: string };
  directline_activities: { conversation_id: string; seq: number; created_at: string };
  user_locales: { user_key: string; updated_at: string };
}
