/**
 * The assembled application with its case backend pointed at a real signed-webhook receiver, in a
 * fresh temp dir per test. Apart from helpers.ts so that tests which only need a receiver or a seeded
 * case do not load the whole application.
 */
import { afterEach, beforeEach } from 'vitest';
import type { Application } from '../../src/app';
import type { Config } from '../../src/config';
import type { Logger } from '../../src/log';
import { createApp, dataIn, testConfig, testDir, type Env } from '../support';
import { webhookReceiver, type Received, type WebhookAnswer } from './helpers';

/** Where the app posts its cases on the receiver. */
export const WEBHOOK_PATH = '/hooks/cases';

/**
 * Call at the top of a test file: before each test a temp dir and a webhook receiver checking
 * `secret` (answering with `answer`, 201 by default) are made; after it the app (if started and not
 * closed) is closed, the receiver stopped and the dir removed.
 */
export function useWebhookApp(secret: string, dirPrefix: string, answer?: (req: Received) => WebhookAnswer | Promise<WebhookAnswer>) {
  let dir = '';
  let receiver: Awaited<ReturnType<typeof webhookReceiver>> | undefined;
  let app: Application | undefined;

  beforeEach(async () => {
    dir = testDir(dirPrefix).path;
    receiver = await webhookReceiver(secret, answer);
  });
  afterEach(async () => {
    await close();
    await receiver?.receiver.stop();
    receiver = undefined;
  });

  async function close(): Promise<void> {
    await app?.close(2_000);
    app = undefined;
  }

  /** SQLite and uploads in the temp dir, cases delivered to the receiver every 50 ms; `extra` adds settings. */
  function config(extra: Env = {}): Config {
    return testConfig({
      ...dataIn(dir),
      CASE_BACKEND: 'webhook',
      CASE_WEBHOOK_URL: `${receiver!.receiver.url}${WEBHOOK_PATH}`,
      CASE_WEBHOOK_SECRET: secret,
      CASE_DELIVERY_POLL_SECONDS: '0.05',
      ...extra,
    });
  }

  return {
    get receiver() {
      return receiver!;
    },
    /** Creates the app (not yet listening) with `config(extra)`, logging to `logger` if given; the after-hook closes it. */
    async start(extra: Env = {}, logger?: Logger): Promise<Application> {
      app = await createApp(config(extra), logger ? { logger } : {});
      return app;
    },
    /** Closes the app now, e.g. to read what it logged while stopping. */
    close,
  };
}
