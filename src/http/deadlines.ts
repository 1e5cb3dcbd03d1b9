/**
 * Slow and too many clients. Node's own `headersTimeout` and `requestTimeout` are set, but Node checks
 * them only every 30 s (connectionsCheckingInterval, which restify gives no way to set); one sweep
 * here holds them to the configured seconds: a connection without complete headers is closed, a
 * request whose body has not arrived is answered 408 and closed. `maxConnections` closes connections
 * beyond the cap on arrival. A sweep instead of a timer per request keeps the turn path free of it.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface DeadlineOptions {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

const TIMEOUT_BODY = JSON.stringify({ code: 'RequestTimeout', message: 'The request body did not arrive in time.' });
const REQUEST_TIMEOUT_RESPONSE = `HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(TIMEOUT_BODY)}\r\n\r\n${TIMEOUT_BODY}`;

interface Pending {
  /** When the connection opened, or its latest request started. */
  since: number;
  req: IncomingMessage | undefined;
  res: ServerResponse | undefined;
}

/** Installs the deadlines on `server`; returns the function that stops the sweep. */
export function enforceDeadlines(server: Server, opts: DeadlineOptions): () => void {
  const headersTimeoutMs = Math.min(opts.headersTimeoutMs, opts.requestTimeoutMs);
  server.requestTimeout = opts.requestTimeoutMs;
  server.headersTimeout = headersTimeoutMs;
  server.maxConnections = opts.maxConnections;

  // Per connection, not per request: keep-alive connections are few and long-lived, and the record
  // is reused by each request on it, so the turn path allocates nothing and retains nothing new.
  const open = new Map<Socket, Pending>();
  server.on('connection', (socket: Socket) => {
    open.set(socket, { since: Date.now(), req: undefined, res: undefined });
    socket.once('close', () => open.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const pending = open.get(req.socket);
    if (!pending) return;
    pending.since = Date.now();
    pending.req = req;
    pending.res = res;
  });

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [socket, pending] of open) {
        const { req, res } = pending;
        if (!req || !res) {
          // Connected, but its first request's headers have not arrived.
          if (now - pending.since >= headersTimeoutMs) socket.destroy();
        } else if (!req.complete && !res.writableEnded && now - pending.since >= opts.requestTimeoutMs) {
          pending.req = undefined;
          pending.res = undefined;
          pending.since = Number.POSITIVE_INFINITY;
          // Straight on the socket, as Node's own request timeout does: the route still waiting for
          // the body must not get to answer as well.
          if (!res.headersSent) socket.end(REQUEST_TIMEOUT_RESPONSE);
          else socket.destroy();
        }
      }
    },
    Math.max(50, Math.min(1_000, headersTimeoutMs / 2, opts.requestTimeoutMs / 2)),
  );
  sweep.unref();
  return () => clearInterval(sweep);
}
