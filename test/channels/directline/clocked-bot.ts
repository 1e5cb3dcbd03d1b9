/**
 * The web chat as `startBot` serves it (real engine, bridge and SQL store: SQLite in a temp dir, or a
 * PostgreSQL schema of its own), on its own HTTP server so the test can hand the Direct Line endpoint
 * a clock it moves (token expiry without waiting an hour) and a smaller activity log bound.
 */
import { rmSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Application } from '../../../src/app';
import { createDirectLineBridge } from '../../../src/channels/botframework/directline-bridge';
import { createWebChatPlugins } from '../../../src/channels/directline';
import type { ActivityLog } from '../../../src/channels/directline/activity-log';
import { SqlActivityLog, type SqlStoreHandle } from '../../../src/channels/directline/sql-activity-log';
import { buildServer, type App } from '../../../src/server';
import { createApp, dataIn, dropPostgresSchema, silentLogger, tempDir, TEST_DATABASE_URL, testConfig, uniqueName } from '../../support';

export type Dialect = 'sqlite' | 'postgres';

/** Where a bot keeps its data; a restart (or a second start) on the same place sees the same conversations. */
export interface BotData {
  dialect: Dialect;
  dir: string;
  schema: string;
}

export function newBotData(dialect: Dialect): BotData {
  return { dialect, dir: tempDir('webchat-clocked-').path, schema: uniqueName('webchat_test') };
}

/** Removes the temp dir and, on PostgreSQL, the schema. */
export async function dropBotData(data: BotData): Promise<void> {
  rmSync(data.dir, { recursive: true, force: true });
  if (data.dialect === 'postgres') await dropPostgresSchema(data.schema);
}

export interface ClockedBot {
  url: string;
  app: Application;
  // The Direct Line tables, for asserting what was (not) stored.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  /** Moves the endpoint's clock forward. */
  advance(ms: number): void;
  stop(): Promise<void>;
}

export interface ClockedBotOptions {
  env?: Record<string, string>;
  maxActivities?: number;
  /** Wraps the activity log the endpoint uses (to count what it reads). */
  wrapLog?: (log: ActivityLog) => ActivityLog;
  /** The clock stands still between `advance` calls (deterministic), unless it flows with real time (a browser's timestamps). */
  flowing?: boolean;
}

export async function startClockedBot(data: BotData, options: ClockedBotOptions = {}): Promise<ClockedBot> {
  const config = testConfig({
    ...dataIn(data.dir),
    ...(data.dialect === 'postgres' ? { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: data.schema, DATABASE_POOL_SIZE: '3' } : {}),
    ...options.env,
  });
  const app = await createApp(config);
  const start = Date.now();
  let offset = 0;
  const clock = () => new Date((options.flowing ? Date.now() : start) + offset);
  const store = app.store as unknown as SqlStoreHandle;
  const log = new SqlActivityLog(store, { maxActivities: options.maxActivities });
  let http: App | undefined;
  try {
    http = buildServer({
      logger: silentLogger,
      maxBodyBytes: config.MAX_BODY_BYTES,
      plugins: createWebChatPlugins({
        config,
        bridge: createDirectLineBridge({ engine: app.engine, translator: app.translator, logger: silentLogger }),
        translator: app.translator,
        logger: silentLogger,
        store,
        log: options.wrapLog ? options.wrapLog(log) : log,
        clock,
      }),
    });
    const { url } = await http.listen(0, '127.0.0.1');
    return {
      url,
      app,
      db: store.db,
      advance(ms) {
        offset += ms;
      },
      async stop() {
        await http!.close(5_000);
        await app.close(5_000);
      },
    };
  } catch (err) {
    await http?.close(1_000);
    await app.close(1_000);
    throw err;
  }
}
