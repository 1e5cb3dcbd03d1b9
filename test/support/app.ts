/**
 * The assembled application as tests run it, the one start path every harness builds on:
 * `createApplication` with the test's settings over LOG_LEVEL=silent, a logger that writes nothing
 * unless the test gives one, no process metrics, listening on a free port of 127.0.0.1. And the hooks
 * that stop what a test started.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import type { Application, ApplicationOptions } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import type { SqlStoreOptions } from '../../src/storage/index';
import { dropPostgresSchema, TEST_DATABASE_URL } from './databases';
import { silentLogger } from './logs';

export type Env = Record<string, string>;

/** Something a test starts and must stop: an app, a bot process, a fake service. */
export interface Stoppable {
  stop(): Promise<unknown>;
}

/** A bot's data in `dir`: its SQLite file (`bot.sqlite`) and its upload folder (`uploads`). */
export function dataIn(dir: string): Env {
  return { DATABASE_URL: `sqlite:${join(dir, 'bot.sqlite')}`, WEBCHAT_UPLOAD_DIR: join(dir, 'uploads') };
}

/** The configuration of an app under test: `env` over LOG_LEVEL=silent, nothing from this process's environment. */
export function testConfig(env: Env = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', ...env });
}

/**
 * The application built and its store opened, not listening yet (`serve` it, or `close` it). The
 * application's modules load on the first call, so importing test/support costs a test that starts
 * no app nothing.
 */
export async function createApp(config: Config, options: ApplicationOptions = {}): Promise<Application> {
  const { createApplication } = await import('../../src/app');
  return createApplication(config, { logger: silentLogger, processMetrics: false, ...options });
}

export interface RunningApp extends Stoppable {
  readonly app: Application;
  readonly url: string;
  /**
   * Closes the app, giving turns in flight up to `timeoutMs`; true when they finished in time. Once:
   * a second call answers as the first did.
   */
  stop(timeoutMs?: number): Promise<boolean>;
}

/** `app` listening on a free port of 127.0.0.1. */
export async function serve(app: Application): Promise<RunningApp> {
  const { url } = await app.listen(0, '127.0.0.1');
  let stopping: Promise<boolean> | undefined;
  return { app, url, stop: (timeoutMs = 5_000) => (stopping ??= app.close(timeoutMs)) };
}

/** The application on `env` (see `testConfig`), listening on a free loopback port. */
export async function startApp(env: Env = {}, options: ApplicationOptions = {}): Promise<RunningApp> {
  return serve(await createApp(testConfig(env), options));
}

export interface Instance extends RunningApp {
  /** What its database connections are named (`<schema>_<name>`): to find, or cut, them. */
  readonly applicationName: string;
}

/**
 * One of several bot servers on one PostgreSQL schema of TEST_DATABASE_URL, as instances behind a
 * load balancer run (the web chat off); `env` and `storeOptions` add to that.
 */
export async function startInstance(schema: string, name: string, env: Env = {}, storeOptions: SqlStoreOptions = {}): Promise<Instance> {
  const config = testConfig({ NODE_ENV: 'test', DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: '4', WEBCHAT_ENABLED: 'false', ...env });
  const applicationName = `${schema}_${name}`;
  const { createStore } = await import('../../src/storage/index');
  const store = createStore(config, silentLogger, { applicationName, ...storeOptions });
  return { ...(await serve(await createApp(config, { store }))), applicationName };
}

/** Stops `started` when the running test finishes, passed or failed. Call it in a test or a `beforeEach`. */
export function stopAfterTest<T extends Stoppable>(started: T): T {
  onTestFinished(async () => void (await started.stop()));
  return started;
}

/**
 * A stand-in for what `get()` returns once there is one (something a hook starts): property reads go
 * to it, methods bound to it. Reading it before then throws, naming `what`.
 */
export function lazy<T extends object>(get: () => T | undefined, what = 'it'): T {
  return new Proxy({} as T, {
    get(_target, prop) {
      const current = get();
      if (!current) throw new Error(`${what} starts before the tests: use it inside them`);
      const value = Reflect.get(current, prop) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
}

/**
 * One started thing for the tests of the enclosing block: `start()` runs before the first, it is
 * stopped after the last, and then the PostgreSQL schema `env` names (DATABASE_SCHEMA, as a
 * `botDatabases()` dialect sets it) is dropped. Returns a stand-in for it, to use inside tests.
 */
export function useShared<T extends Stoppable>(start: () => Promise<T>, env: Env = {}): T {
  let current: T | undefined;
  beforeAll(async () => {
    current = await start();
  });
  afterAll(async () => {
    await current?.stop();
    if (env.DATABASE_SCHEMA) await dropPostgresSchema(env.DATABASE_SCHEMA);
  });
  return lazy(() => current, 'useShared: what it starts');
}
