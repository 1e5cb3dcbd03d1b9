/**
 * Composition root of `npm start`: read `.env` when there is one, validate the config, assemble the
 * application, listen, and stop gracefully on SIGTERM/SIGINT (no new requests, in-flight turns
 * finish, storage closes; a forced exit when that takes longer than SHUTDOWN_TIMEOUT_SECONDS).
 */
import { existsSync } from 'node:fs';
import { createApplication, type Application } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger } from './log';
import { isLoopbackHostName } from './security/client';
import { Recogniser } from './nlu/recogniser';
import { collectWhenIdle } from './workers/idle-gc';

/** Extra time the forced exit grants on top of the shutdown timeout, for storage to close. */
const FORCE_EXIT_GRACE_MS = 2_000;

function readConfig(): Config {
  // Bot Framework projects keep MicrosoftAppId & co. in `.env`; a fresh clone has none and needs none.
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/**
 * The free-text models train in the background this long after the bot listens, a model per
 * event-loop turn: the health checks and first requests of a start are answered before it rather
 * than between its steps (a model a typed answer needs sooner trains then, in a few milliseconds).
 */
const NLU_WARM_UP_AFTER_MS = 1_000;

/** Reported by /healthz: the bench waits for `ready` so training does not count as turn cost. */
let nluModels: 'training' | 'ready' = 'training';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.LOG_LEVEL);
  let application: Application;
  try {
    application = await createApplication(config, { logger, health: () => ({ nlu: nluModels }) });
  } catch (err) {
    logger.fatal({ err }, 'the bot could not start');
    process.exit(1);
  }
  let url: string;
  try {
    ({ url } = await application.listen());
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? 'another process uses this port: stop it or set PORT' : code === 'EACCES' ? 'ports below 1024 need privileges: set PORT' : undefined;
    logger.fatal({ err, host: config.HOST, port: config.PORT, hint }, 'the bot could not listen');
    await application.close(0).catch(() => undefined);
    process.exit(1);
  }
  logger.info(
    {
      url,
      messagingEndpoint: `${url}/api/messages`,
      webChat: config.WEBCHAT_ENABLED ? `${url}/` : 'off (WEBCHAT_ENABLED=false)',
      storage: application.store.kind,
      reachableFrom: isLoopbackHostName(config.HOST) ? 'this machine only (HOST is loopback)' : `the network (HOST=${config.HOST})`,
      botFrameworkAuth: config.MicrosoftAppId
        ? `app ${config.MicrosoftAppType}`
        : config.ALLOW_UNAUTHENTICATED_NETWORK
          ? 'OFF, and /api/messages is open to the network (ALLOW_UNAUTHENTICATED_NETWORK)'
          : 'off (no MicrosoftAppId): /api/messages answers this machine only, replies only to loopback serviceUrls',
      loopbackTrusted: config.TRUST_LOOPBACK,
      publicUrl: config.PUBLIC_URL ?? 'unset (links and Host names: this machine only)',
      caseBackend: config.CASE_BACKEND,
      webex: config.WEBEX_BOT_TOKEN ? `${url}/api/webex${config.WEBEX_WEBHOOK_SECRET ? '' : ' (UNSIGNED: WEBEX_INSECURE_DEV)'}` : 'off (no WEBEX_BOT_TOKEN)',
    },
    'bot listening',
  );
  // A case backend that cannot take cases (ServiceNow refusing the look-up) is said at start, not at the first case.
  void application.cases.check().then(
    (problems) => problems.length && logger.error({ backend: config.CASE_BACKEND, problems }, 'the case backend is not ready: cases wait (pending) until this is fixed; see npm run cases -- check'),
    (err: unknown) => logger.warn({ err }, 'the case backend could not be checked'),
  );
  // Train the free-text models ahead, so the first typed answer does not wait.
  const warmUp = setTimeout(() => {
    void Recogniser.shared(application.translator.resources)
      .warmUp()
      .then(
        () => (nluModels = 'ready'),
        (err: unknown) => logger.warn({ err }, 'free-text models could not be trained ahead; they train on first use'),
      );
  }, NLU_WARM_UP_AFTER_MS);
  if (!config.MicrosoftAppId && config.ALLOW_UNAUTHENTICATED_NETWORK) {
    logger.warn(
      { host: config.HOST },
      'ALLOW_UNAUTHENTICATED_NETWORK is on: anyone who reaches this port can talk to the bot as anyone and make it send requests to any URL. Never use this in production',
    );
  }

  // Memory a burst of traffic left behind goes back once the bot is quiet (npm start exposes gc).
  const idleGc = collectWhenIdle({
    onCollected: (before, after) =>
      logger.debug({ committedMiB: [before.committed, after.committed].map((b) => Math.round(b / 1048576)), usedMiB: Math.round(after.used / 1048576) }, 'collected garbage while idle'),
  });

  let stopping = false;
  const stop = async (reason: string, code: number): Promise<void> => {
    if (stopping) {
      logger.warn({ reason }, 'asked again while stopping: exiting now');
      process.exit(code || 1);
    }
    stopping = true;
    idleGc.stop();
    clearTimeout(warmUp);
    const timeoutMs = config.SHUTDOWN_TIMEOUT_SECONDS * 1000;
    logger.info({ reason, inFlight: application.http.inFlight(), timeoutMs }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ reason }, 'shutdown took too long: forced exit');
      process.exit(1);
    }, timeoutMs + FORCE_EXIT_GRACE_MS);
    force.unref();
    try {
      const inTime = await application.close(timeoutMs);
      if (!inTime) logger.warn('some in-flight work did not finish before the shutdown timeout');
      logger.info('stopped');
      process.exit(inTime ? code : 1);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    void stop('uncaughtException', 1);
  });
}

main().catch((err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1); });
