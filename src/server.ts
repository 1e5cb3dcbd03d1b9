/**
 * The HTTP server, built by a function so tests start it on a random port without globals.
 * Channels bring their own routes as plug-ins (`{ name, register(server) }`); this module only
 * owns what every route shares: body limits, JSON parsing, `GET /healthz` (liveness: the process
 * answers) and `GET /readyz` (readiness: the store accepts writes), error hygiene and the count of
 * in-flight requests that a graceful shutdown waits for.
 *
 * For plug-in authors:
 * - Bodies are parsed once for every route (`req.body`); JSON routes also get the exact text as
 *   `req.rawBody` (a string), which is what a webhook signature (Webex HMAC) is computed over.
 *   Malformed JSON is answered 400 and a body over `maxBodyBytes` 413 before any route runs.
 * - Register `async (req, res) => { ... }` handlers: a rejected promise becomes a 500 with a neutral
 *   body and a log record, never a crash or a stack trace in the response.
 * - Work that outlives its request (a webhook answered 202 before the turn runs) belongs in
 *   `drain()`, which `close()` awaits before storage is closed.
 */
import type { AddressInfo } from 'node:net';
import { enforceDeadlines } from './http/deadlines';
import restify, { type Request, type Response, type Server } from 'restify';
import type { Logger } from './log';

export interface ServerPlugin {
  /** Short name for logs, e.g. `botframework`, `webex`, `directline`. */
  readonly name: string;
  /** Adds the plug-in's routes. Called once, after the shared middleware is installed. */
  register(server: Server): void;
  /** Stops background work that would start new jobs (pollers); called by `close()` before `drain()`. */
  stop?(): Promise<void>;
  /** Resolves when the plug-in's background work has finished; called by `close()`. */
  drain?(): Promise<void>;
}

export interface ServerDeps {
  logger: Logger;
  /** Larger request bodies are answered 413. */
  maxBodyBytes: number;
  plugins?: readonly ServerPlugin[];
  /**
   * Slow or too many clients: a request whose headers or body have not arrived in time is answered 408
   * and closed; connections beyond `maxConnections` are closed on arrival. Defaults: 15 s, 60 s, 1024.
   */
  connections?: { headersTimeoutMs?: number; requestTimeoutMs?: number; maxConnections?: number };
  /** Reported by `/healthz` (e.g. `{ storage: 'sqlite' }`); keep it free of secrets and personal data. */
  health?: () => Record<string, unknown>;
  /**
   * Whether this instance can take turns now, for `/readyz` (e.g. the store accepts writes). Without
   * it `/readyz` answers as `/healthz` does. `reason` goes into the 503 body: no secrets, no details.
   */
  ready?: () => Promise<{ ready: boolean; reason?: string }>;
}

export interface App {
  readonly server: Server;
  /** Starts listening; `port` 0 picks a free one. Resolves with the bound port and a base URL. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /**
   * Stops accepting connections, waits up to `timeoutMs` for in-flight requests and plug-in drains,
   * then closes every remaining connection. Resolves `true` when everything finished in time.
   */
  close(timeoutMs?: number): Promise<boolean>;
  /** Requests currently being handled. */
  inFlight(): number;
}

/** A request's path without its query: queries can carry tokens (`/?token=…`) and never go to the log. */
export function pathOf(url: string | undefined): string {
  return (url ?? '').split('?')[0] ?? '';
}

const NEUTRAL_500 = { code: 'InternalServer', message: 'The request could not be handled. It has been logged.' };

export function buildServer(deps: ServerDeps): App {
  const { logger } = deps;
  const plugins = deps.plugins ?? [];
  const server = restify.createServer({ name: 'pce-support-bot', log: logger as never, handleUncaughtExceptions: false });

  const stopDeadlines = enforceDeadlines(server.server, {
    headersTimeoutMs: deps.connections?.headersTimeoutMs ?? 15_000,
    requestTimeoutMs: deps.connections?.requestTimeoutMs ?? 60_000,
    maxConnections: deps.connections?.maxConnections ?? 1024,
  });

  let inFlight = 0;
  let closing = false;
  const idleWaiters = new Set<() => void>();
  server.server.on('request', (_req, res) => {
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) for (const wake of idleWaiters) wake();
    });
  });

  server.pre((req: Request, res: Response, next: restify.Next) => {
    // During shutdown, keep-alive connections are told to go away after this response.
    if (closing) res.setHeader('Connection', 'close');
    // The body limit counts bytes on the wire; a compressed body could inflate far past it. No
    // client of ours compresses requests (Bot Framework, Webex and browsers send identity).
    const encoding = req.headers['content-encoding'];
    if (encoding && encoding.trim().toLowerCase() !== 'identity') {
      res.send(415, { code: 'UnsupportedMediaType', message: 'Compressed request bodies are not accepted.' });
      return next(false);
    }
    next();
  });
  server.use(restify.plugins.queryParser({ mapParams: false }));
  // JSON only: other bodies stay raw text in `req.body`; multipart and octet-stream are left unread
  // on the request stream for a route that wants them. The size limit applies to every read body.
  server.use(restify.plugins.bodyReader({ maxBodySize: deps.maxBodyBytes }));
  server.use(restify.plugins.jsonBodyParser({ bodyReader: true, mapParams: false, overrideParams: false }));

  server.on('restifyError', (req: Request, _res: Response, err: Error & { statusCode?: number }, cb: () => void) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      logger.error({ err, method: req.method, path: pathOf(req.url), status }, 'request failed');
      Object.assign(err, { toJSON: () => NEUTRAL_500, toString: () => NEUTRAL_500.message });
    } else {
      logger.debug({ method: req.method, path: pathOf(req.url), status, reason: err.message }, 'request rejected');
    }
    cb();
  });

  server.get('/healthz', async (_req: Request, res: Response) => {
    if (closing) {
      res.send(503, { status: 'shutting_down' });
      return;
    }
    res.send(200, { status: 'ok', ...(deps.health?.() ?? {}) });
  });

  // Readiness, for load balancers and orchestrators: 503 while turns would fail (issue 15, item 4).
  // `/healthz` stays liveness: a process that answers it needs no restart, only patience.
  server.get('/readyz', async (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    if (closing) {
      res.send(503, { status: 'shutting_down' });
      return;
    }
    const state = (await deps.ready?.()) ?? { ready: true };
    if (state.ready) res.send(200, { status: 'ready', ...(deps.health?.() ?? {}) });
    else res.send(503, { status: 'not_ready', ...(state.reason ? { reason: state.reason } : {}), ...(deps.health?.() ?? {}) });
  });

  for (const plugin of plugins) {
    plugin.register(server);
    logger.debug({ plugin: plugin.name }, 'channel routes registered');
  }

  function whenIdle(): Promise<void> {
    if (inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        idleWaiters.delete(wake);
        resolve();
      };
      idleWaiters.add(wake);
    });
  }

  return {
    server,
    inFlight: () => inFlight,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        // restify re-emits the http server's 'error' on itself: listen there, or EADDRINUSE throws.
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          server.on('error', (err: Error) => logger.error({ err }, 'http server error'));
          const bound = (server.server.address() as AddressInfo).port;
          const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          resolve({ port: bound, url: `http://${shownHost}:${bound}` });
        });
      });
    },
    async close(timeoutMs = 10_000) {
      closing = true;
      stopDeadlines();
      const stopped = new Promise<void>((resolve) => {
        if (!server.server.listening) return resolve();
        server.server.close(() => resolve());
      });
      server.server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
      });
      const finished = (async () => {
        await Promise.all(plugins.map((p) => p.stop?.() ?? Promise.resolve()));
        await whenIdle();
        await Promise.all(plugins.map((p) => p.drain?.() ?? Promise.resolve()));
        return true as const;
      })();
      const inTime = await Promise.race([finished, timedOut]);
      clearTimeout(timer);
      server.server.closeAllConnections();
      await stopped;
      return inTime;
    },
  };
}
