/**
 * Where GET /metrics (and GET /report, the funnel report page, when given) is served and who may read
 * them, the same rule for both:
 * - METRICS_BIND set: only on a separate listener at that host:port (a private interface), never on
 *   the public server; METRICS_TOKEN, when also set, is required there too.
 * - else METRICS_TOKEN set: on the main server, with `Authorization: Bearer <token>`.
 * - else: on the main server for this machine only (`RequestOrigin.isLocal`: a loopback peer with no
 *   forwarding header of any kind, and TRUST_LOOPBACK on); everyone else gets 403.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, Response, Server } from 'restify';
import type { Config } from '../config';
import type { Logger } from '../log';
import { pathOf, type ServerPlugin } from '../server';
import type { ReportPages } from '../funnel/pages';
import type { BotMetrics } from './metrics';
import { answerReport, REPORT_PATH } from './report-route';
import { DEFAULT_ORIGIN, type RequestOrigin } from '../security/client';

export const METRICS_PATH = '/metrics';

type Access = { allowed: true } | { allowed: false; status: 401 | 403 };

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison of the bearer token (hashed first, so lengths do not leak either). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '');
  return !!match && timingSafeEqual(digest(match[1]!), digest(token));
}

/** `localOnly`: without a token, only this machine may read (the main server); the separate listener is private by its bind. */
function access(req: IncomingMessage, token: string | undefined, localOnly: RequestOrigin | undefined): Access {
  if (token) return bearerMatches(req.headers.authorization, token) ? { allowed: true } : { allowed: false, status: 401 };
  if (!localOnly) return { allowed: true };
  return localOnly.isLocal(req) ? { allowed: true } : { allowed: false, status: 403 };
}

/** Answers 401/403 and returns false when the request may not read; the caller serves otherwise. */
function admitted(req: IncomingMessage, res: ServerResponse, token: string | undefined, localOnly: RequestOrigin | undefined): boolean {
  const verdict = access(req, token, localOnly);
  if (verdict.allowed) return true;
  if (verdict.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
  res.writeHead(verdict.status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(verdict.status === 401 ? 'Unauthorized\n' : 'Forbidden\n');
  return false;
}

interface Guard {
  token?: string;
  logger: Logger;
  /** The report page to serve at /report beside /metrics; without it /report is not a route. */
  report?: ReportPages;
}

/** One of the guarded routes, after the access check. */
async function serve(
  path: string,
  metrics: BotMetrics,
  req: IncomingMessage,
  res: ServerResponse,
  guard: Guard,
  localOnly: RequestOrigin | undefined,
): Promise<void> {
  if (!admitted(req, res, guard.token, localOnly)) return;
  if (path === REPORT_PATH && guard.report) await answerReport(guard.report, req, res, guard.logger);
  else await answerMetrics(metrics, res, guard.logger);
}

async function answerMetrics(metrics: BotMetrics, res: ServerResponse, logger: Logger): Promise<void> {
  try {
    const { contentType, body } = await metrics.render();
    res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
    res.end(body);
  } catch (err) {
    logger.error({ err }, 'metrics could not be collected');
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Metrics could not be collected. It has been logged.\n');
  }
}

/** GET /metrics (and /report) on the main (restify) server, through `buildServer`'s plug-ins. */
export function metricsPlugin(metrics: BotMetrics, opts: Guard & { origin?: RequestOrigin }): ServerPlugin {
  return {
    name: 'metrics',
    register(server: Server) {
      for (const path of opts.report ? [METRICS_PATH, REPORT_PATH] : [METRICS_PATH]) {
        server.get(path, async (req: Request, res: Response) => {
          await serve(path, metrics, req, res, opts, opts.origin ?? DEFAULT_ORIGIN);
        });
      }
    },
  };
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** Splits `host:port` (`[::1]:9464` for IPv6). */
export function parseBind(bind: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(bind);
  if (!match) throw new Error(`METRICS_BIND must be host:port, got "${bind}"`);
  return { host: match[1]!, port: Number(match[2]) };
}

/** A separate, minimal HTTP listener that serves only GET /metrics (and /report). */
export function startMetricsListener(metrics: BotMetrics, bind: string, opts: Guard): Promise<MetricsListener> {
  const { host, port } = parseBind(bind);
  const server = createServer((req, res) => {
    const path = pathOf(req.url);
    const known = path === METRICS_PATH || (path === REPORT_PATH && !!opts.report);
    if (!known || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Not found\n');
      return;
    }
    void serve(path, metrics, req, res, opts, undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      opts.logger.info({ bind: `${shownHost}:${address.port}` }, 'metrics listener started');
      resolve({
        url: `http://${shownHost}:${address.port}${METRICS_PATH}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/**
 * Decides from the config where /metrics (and /report, with `report`) lives. Returns the plug-in to
 * pass to `buildServer` (when served on the main server) and a starter for the separate listener
 * (when METRICS_BIND is set: then neither is on the public server).
 */
export function metricsExposure(
  config: Pick<Config, 'METRICS_BIND' | 'METRICS_TOKEN'>,
  metrics: BotMetrics,
  logger: Logger,
  origin: RequestOrigin = DEFAULT_ORIGIN,
  report?: ReportPages,
): { plugin?: ServerPlugin; startListener?: () => Promise<MetricsListener> } {
  const guard: Guard = { token: config.METRICS_TOKEN, logger, ...(report ? { report } : {}) };
  const bind = config.METRICS_BIND;
  if (bind) return { startListener: () => startMetricsListener(metrics, bind, guard) };
  return { plugin: metricsPlugin(metrics, { ...guard, origin }) };
}
