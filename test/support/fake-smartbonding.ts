/**
 * A Cisco Smart Bonding Partner API on loopback, speaking what developer.cisco.com documents (see
 * src/cases/backends/smartbonding-calls.ts for the pages): the OAuth2 client-credentials token
 * endpoint (`grant_type`, `client_id`, `client_secret` as a form; `{ access_token, token_type,
 * expires_in }`), `POST …/push/call` taking `Calls` messages (a `New` creates the call under its
 * `CustCallID`, an `Update` adds to it) and `GET …/pull/call` handing out one waiting message per
 * request, `{ "message": "No messages available to Send" }` when none waits. Switches: tokens that
 * expire (or are all revoked at once), a refused client, canned failures per route (401, 429 with
 * Retry-After, 5xx), and raw pull answers (a malformed one).
 */
import { createServer, type Server } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback';

export const SB_BASE = '/sb-partner-oauth-proxy-api/rest/v1';
export const SB_TOKEN_PATH = '/oauth2/default/v1/token';

export interface SbCall {
  custCallId: string;
  created: Record<string, unknown>;
  updates: Record<string, unknown>[];
}

export interface SbRequest {
  method: string;
  path: string;
  authorization?: string;
  body: string;
}

type Route = 'token' | 'push' | 'pull';
export interface CannedFailure {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface TacUpdate {
  state: string;
  remarks?: string;
  solution?: string;
  spCallId?: string;
}

export class FakeSmartBonding {
  readonly clientId = 'sb-client-id';
  clientSecret = 'sb-client-secret';
  /** Lifetime of issued tokens, in seconds (documented: one hour). */
  tokenLifetimeS = 3599;
  readonly requests: SbRequest[] = [];
  readonly calls = new Map<string, SbCall>();
  tokensIssued = 0;
  private readonly valid = new Set<string>();
  private readonly failures: Record<Route, CannedFailure[]> = { token: [], push: [], pull: [] };
  private readonly waiting: string[] = [];
  private server?: Server;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get apiUrl(): string {
    return `${this.url}${SB_BASE}`;
  }

  get tokenUrl(): string {
    return `${this.url}${SB_TOKEN_PATH}`;
  }

  /** The settings that point the bot here. */
  env(): Record<string, string> {
    return { CASE_BACKEND: 'smartbonding', SMARTBONDING_API_URL: this.apiUrl, SMARTBONDING_TOKEN_URL: this.tokenUrl, SMARTBONDING_CLIENT_ID: this.clientId, SMARTBONDING_CLIENT_SECRET: this.clientSecret };
  }

  /** The next requests to `route` fail like this, in order. */
  fail(route: Route, ...failures: CannedFailure[]): void {
    this.failures[route].push(...failures);
  }

  /** Every token issued so far stops working (an expiry the client did not see coming). */
  revokeTokens(): void {
    this.valid.clear();
  }

  /** Cisco TAC says something about a call: a pull message in the documented `Calls` shape. */
  tacUpdate(custCallId: string, u: TacUpdate): void {
    const calls: Record<string, unknown> = { CustCallID: custCallId, SDCallID: `SD${this.waiting.length + 1000}` };
    if (u.spCallId) calls.SPCallID = u.spCallId;
    if (u.remarks !== undefined) calls.Remarks = u.remarks;
    if (u.solution !== undefined) calls.Solution = u.solution;
    this.waiting.push(JSON.stringify({ Calls: calls, CallStates: { ShortName: u.state } }));
  }

  /** A pull answer exactly as given (a malformed one, or a message sent again). */
  queueRaw(body: string): void {
    this.waiting.push(body);
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Requests to `route` so far. */
  count(route: Route): number {
    const path = { token: SB_TOKEN_PATH, push: `${SB_BASE}/push/call`, pull: `${SB_BASE}/pull/call` }[route];
    return this.requests.filter((r) => r.path === path).length;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        this.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
        const answer = this.answer(req.method ?? '', path, req.headers, body);
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body);
      });
    });
    this.port = await listenOnLoopback(this.server, this.port);
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await closeServer(s);
  }

  private answer(method: string, path: string, headers: NodeJS.Dict<string | string[]>, body: string): Required<CannedFailure> {
    const reply = (status: number, json: unknown, extra: Record<string, string> = {}) => ({ status, headers: extra, body: JSON.stringify(json) });
    if (path === SB_TOKEN_PATH && method === 'POST') {
      const canned = this.failures.token.shift();
      if (canned) return { headers: {}, body: '{}', ...canned };
      const form = new URLSearchParams(body);
      if (headers['content-type'] !== 'application/x-www-form-urlencoded' || form.get('grant_type') !== 'client_credentials') {
        return reply(400, { error: 'unsupported_grant_type' });
      }
      if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) return reply(401, { error: 'invalid_client' });
      const token = `tok-${++this.tokensIssued}`;
      this.valid.add(token);
      return reply(200, { access_token: token, token_type: 'Bearer', expires_in: this.tokenLifetimeS, scope: 'sb' });
    }
    const route: Route | undefined = path === `${SB_BASE}/push/call` && method === 'POST' ? 'push' : path === `${SB_BASE}/pull/call` && method === 'GET' ? 'pull' : undefined;
    if (!route) return reply(404, { message: 'Not Found' });
    const bearer = /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1];
    if (!bearer || !this.valid.has(bearer)) return reply(401, { message: 'Unauthorized' });
    const canned = this.failures[route].shift();
    if (canned) return { headers: {}, body: '{"message":"failure"}', ...canned };
    if (route === 'pull') {
      const next = this.waiting.shift();
      return next === undefined ? reply(200, { message: 'No messages available to Send' }) : { status: 200, headers: {}, body: next };
    }
    return this.push(body, reply);
  }

  private push(body: string, reply: (status: number, json: unknown) => Required<CannedFailure>): Required<CannedFailure> {
    let message: { Calls?: { CustCallID?: unknown }; CallStates?: { ShortName?: unknown } };
    try {
      message = JSON.parse(body) as typeof message;
    } catch {
      return reply(400, { message: 'Invalid JSON' });
    }
    const id = message.Calls?.CustCallID;
    const state = message.CallStates?.ShortName;
    if (typeof id !== 'string' || !id) return reply(400, { message: 'Calls.CustCallID is required' });
    const existing = this.calls.get(id);
    if (state === 'New') {
      // Keyed by CustCallID: a repeated create names the same call.
      if (!existing) this.calls.set(id, { custCallId: id, created: message as Record<string, unknown>, updates: [] });
      return reply(200, { message: 'Success' });
    }
    if (!existing) return reply(400, { message: `No call ${id}` });
    existing.updates.push(message as Record<string, unknown>);
    return reply(200, { message: 'Success' });
  }
}

export async function startFakeSmartBonding(): Promise<FakeSmartBonding> {
  return new FakeSmartBonding().start();
}
