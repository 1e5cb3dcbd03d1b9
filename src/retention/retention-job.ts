/**
 * Retention of personal data: conversations idle longer than RETENTION_DAYS are deleted with their
 * transcript; web chat (Direct Line) conversations whose last activity is that old are deleted with
 * their activities and uploaded files; a language a person picked and has not touched for as long is
 * forgotten. Cases are kept (they are the record) and so are funnel events (no personal data).
 * Processed-activity marks are pruned by the store itself after a week.
 *
 * Several instances on PostgreSQL: each conversation is deleted under the conversation lock the
 * engine uses for turns (`pg_advisory_lock`; a conversation in the middle of a turn is deleted after
 * the turn, and only if it is still idle then), in one transaction with its transcript. Deletes are
 * conditional and idempotent: two instances running at once delete each row once, and a run cut short
 * is finished by the next one. Only one connection per instance is used at a time. Uploads live on each instance's own disk: every instance sweeps its own folder and
 * deletes the files of web chat conversations that are no longer in the database and have not changed
 * for the retention period.
 */
import type { Kysely } from 'kysely';
import type { Logger } from '../log';
import type { Store } from '../storage/store';

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
    // Keyset pagination: a conversation that became active during the run is skipped, not revisited.
    let after = '';
    while (!this.stopping) {
      const keys = (
        await this.db
          .selectFrom('conversations')
          .select('key')
          .where('updated_at', '<', before)
          .where('key', '>', after)
          .orderBy('key')
          .limit(this.batchSize)
          .execute()
      ).map((r) => r.key);
      if (!keys.length) return;
      after = keys.at(-1)!;
      for (const key of keys) {
        if (this.stopping) return;
        await this.opts.store.runExclusive(key, async () => {
          // Inside runExclusive `store.db` is the turn's connection (PostgreSQL) holding the lock.
          const db = this.db;
          await db.transaction().execute(async (trx) => {
            const gone = await trx.deleteFrom('conversations').where('key', '=', key).where('updated_at', '<', before).returning('key').execute();
            if (!gone.length) return;
            const entries = await trx.deleteFrom('transcript_entries').where('conversation_key', '=', key).executeTakeFirst();
            // The Bot Framework channel's reference (the person's name and ids) and replies never delivered.
            await trx.deleteFrom('conversation_references').where('conversation_key', '=', key).execute();
            await trx.deleteFrom('undelivered_replies').where('conversation_key', '=', key).execute();
            report.conversations += 1;
            report.transcriptEntries += Number(entries.numDeletedRows);
          });
        });
      }
    }
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
    let after = '';
    while (!this.stopping) {
      const ids = (await idle(this.db).where('dc.id', '>', after).orderBy('dc.id').limit(this.batchSize).execute()).map((r) => r.id);
      if (!ids.length) return;
      after = ids.at(-1)!;
      for (const id of ids) {
        if (this.stopping) return;
        // The engine's conversation lock for this web chat conversation: no turn of it runs meanwhile.
        await this.opts.store.runExclusive(`${DIRECTLINE_KEY_PREFIX}${id}`, async () => {
          const db = this.db;
          await db.transaction().execute(async (trx) => {
            // PostgreSQL: appenders lock the conversation row first; take it too, then look again.
            if (this.opts.store.kind === 'postgres') {
              await trx.selectFrom('directline_conversations').select('id').where('id', '=', id).forUpdate().execute();
            }
            const still = await idle(trx, [id]).execute();
            if (!still.length) return;
            const activities = await trx.deleteFrom('directline_activities').where('conversation_id', '=', id).executeTakeFirst();
            await trx.deleteFrom('directline_conversations').where('id', '=', id).execute();
            const key = `${DIRECTLINE_KEY_PREFIX}${id}`;
            const conversation = await trx.deleteFrom('conversations').where('key', '=', key).executeTakeFirst();
            const entries = await trx.deleteFrom('transcript_entries').where('conversation_key', '=', key).executeTakeFirst();
            report.webChatConversations += 1;
            report.webChatActivities += Number(activities.numDeletedRows);
            report.conversations += Number(conversation.numDeletedRows);
            report.transcriptEntries += Number(entries.numDeletedRows);
          });
        });
        removed.push(id);
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
  conversations: { key: string; updated_at: string };
  transcript_entries: { conversation_key: string };
  conversation_references: { conversation_key: string };
  undelivered_replies: { conversation_key: string };
  directline_conversations: { id: string; created_at: string };
  directline_activities: { conversation_id: string; seq: number; created_at: string };
  user_locales: { user_key: string; updated_at: string };
}
