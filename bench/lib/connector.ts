/**
 * A local stand-in for the Bot Framework connector service (the `serviceUrl` of every activity the
 * bench sends), on loopback. It answers the calls a bot makes on the normal Teams path, as the real
 * connector does (REST API v3):
 *
 *   POST /v3/conversations/{id}/activities             send to the conversation   → 200 {id}
 *   POST /v3/conversations/{id}/activities/{replyTo}   reply to an activity       → 200 {id}
 *   PUT  /v3/conversations/{id}/activities/{id}        update (replace a card)    → 200 {id}
 *   GET  /v3/conversations/{id}/members/{userId}       member look-up (email)     → 200 TeamsChannelAccount
 *
 * Every message posted gets an id and waits in its conversation's mailbox until the walker takes it
 * (`take`): that is how the bench reads a bot's replies with connector delivery, and a press on a card
 * sends the card's id back as `replyToId`, as Teams does. With `expectReplies` a bot should call
 * nothing here, and the bench reports any call it makes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConnectorCalls {
  /** Messages sent (to the conversation or as a reply). */
  posts: number;
  /** Typing indicators and other non-message activities sent. */
  otherPosts: number;
  /** Activities updated (a pressed card replaced by its answered version). */
  updates: number;
  /** Updates of an activity id this connector never gave out. */
  unknownUpdates: number;
  memberLookups: number;
  /** Anything else (answered 404). */
  other: number;
}

export interface PostedActivity {
  id: string;
  activity: unknown;
}

export interface Mailbox {
  posted: PostedActivity[];
  updated: PostedActivity[];
  /** Member look-ups and typing indicators for the conversation (counted only). */
  memberLookups: number;
  otherPosts: number;
}

export interface FakeConnector {
  url: string;
  /** Calls so far (cumulative). */
  calls(): ConnectorCalls;
  /** Takes (and forgets) what the bot sent to a conversation since the last take. */
  take(conversationId: string): Mailbox;
  /** Conversations with mail nobody took. */
  waiting(): number;
  /** Forgets all mail (between load runs: conversations of a finished run are never read again). */
  clear(): void;
  close(): Promise<void>;
}

export interface FakeConnectorOptions {
  /** Milliseconds every answer waits (the real connector is a network hop away). Default 0. */
  delayMs?: number;
}

const EMPTY: Mailbox = Object.freeze({ posted: [], updated: [], memberLookups: 0, otherPosts: 0 }) as Mailbox;

/** Routes a connector URL path; ids are URL-encoded path segments. */
export function route(method: string, path: string): { kind: 'post' | 'update' | 'member' | 'other'; conversationId?: string; activityId?: string; userId?: string } {
  const m = /^\/v3\/conversations\/([^/]+)\/(activities|members)(?:\/([^/]+))?\/?$/.exec(path.split('?')[0]!);
  if (!m) return { kind: 'other' };
  const conversationId = decodeURIComponent(m[1]!);
  const rest = m[3] !== undefined ? decodeURIComponent(m[3]) : undefined;
  if (m[2] === 'activities') {
    if (method === 'POST') return { kind: 'post', conversationId, ...(rest ? { activityId: rest } : {}) };
    if (method === 'PUT' && rest) return { kind: 'update', conversationId, activityId: rest };
    return { kind: 'other' };
  }
  if (method === 'GET' && rest) return { kind: 'member', conversationId, userId: rest };
  return { kind: 'other' };
}

/** What Teams answers a member look-up with; the email is made up from the user id. */
export function memberOf(userId: string): Record<string, unknown> {
  const local = userId.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60) || 'user';
  return {
    id: userId,
    name: `Bench ${local}`,
    aadObjectId: '00000000-0000-4000-8000-000000000000',
    givenName: 'Bench',
    surname: local,
    email: `${local}@example.com`,
    userPrincipalName: `${local}@example.com`,
    tenantId: 'bench-tenant',
    userRole: 'user',
  };
}

export async function startFakeConnector(options: FakeConnectorOptions = {}): Promise<FakeConnector> {
  const calls: ConnectorCalls = { posts: 0, otherPosts: 0, updates: 0, unknownUpdates: 0, memberLookups: 0, other: 0 };
  const mail = new Map<string, Mailbox>();
  let seq = 0;
  const delay = options.delayMs ?? 0;
  const box = (conversationId: string): Mailbox => {
    let b = mail.get(conversationId);
    if (!b) mail.set(conversationId, (b = { posted: [], updated: [], memberLookups: 0, otherPosts: 0 }));
    return b;
  };
  const issued = (id: string) => {
    const m = /^a(\d+)$/.exec(id);
    return !!m && Number(m[1]) <= seq;
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const send = () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (delay > 0) setTimeout(send, delay);
    else send();
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const r = route(req.method ?? 'GET', req.url ?? '/');
    if (r.kind === 'member') {
      calls.memberLookups += 1;
      box(r.conversationId!).memberLookups += 1;
      answer(res, 200, memberOf(r.userId!));
      return;
    }
    if (r.kind === 'other') {
      calls.other += 1;
      answer(res, 404, { error: { code: 'NotFound', message: `${req.method} ${req.url}` } });
      return;
    }
    let activity: Record<string, unknown>;
    try {
      activity = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      calls.other += 1;
      answer(res, 400, { error: { code: 'BadArgument', message: 'not JSON' } });
      return;
    }
    if (r.kind === 'update') {
      calls.updates += 1;
      if (!issued(r.activityId!)) calls.unknownUpdates += 1;
      box(r.conversationId!).updated.push({ id: r.activityId!, activity });
      answer(res, 200, { id: r.activityId });
      return;
    }
    const id = `a${++seq}`;
    if (activity.type === undefined || activity.type === 'message') {
      calls.posts += 1;
      box(r.conversationId!).posted.push({ id, activity });
    } else {
      calls.otherPosts += 1;
      box(r.conversationId!).otherPosts += 1;
    }
    answer(res, 200, { id });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => ({ ...calls }),
    take(conversationId) {
      const b = mail.get(conversationId);
      if (!b) return EMPTY;
      mail.delete(conversationId);
      return b;
    },
    waiting: () => mail.size,
    clear: () => mail.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Calls counted from the mailboxes of answered turns (exact: no turn still in flight is counted). */
export function addMail(to: ConnectorCalls, mail: Mailbox): void {
  to.posts += mail.posted.length;
  to.updates += mail.updated.length;
  to.memberLookups += mail.memberLookups;
  to.otherPosts += mail.otherPosts;
}

export const noCalls = (): ConnectorCalls => ({ posts: 0, otherPosts: 0, updates: 0, unknownUpdates: 0, memberLookups: 0, other: 0 });

/** Calls between two readings, per turn. */
export function callsPerTurn(before: ConnectorCalls, after: ConnectorCalls, turns: number): ConnectorCalls & { total: number } {
  const d = Object.fromEntries(Object.keys(after).map((k) => [k, (after[k as keyof ConnectorCalls] - before[k as keyof ConnectorCalls]) / Math.max(1, turns)])) as unknown as ConnectorCalls;
  const total = d.posts + d.otherPosts + d.updates + d.memberLookups + d.other;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { posts: r(d.posts), otherPosts: r(d.otherPosts), updates: r(d.updates), unknownUpdates: r(d.unknownUpdates), memberLookups: r(d.memberLookups), other: r(d.other), total: r(total) };
}
