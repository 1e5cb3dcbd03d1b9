/**
 * A local stand-in for the Bot Framework connector service (what `serviceUrl` points at): a real
 * HTTP server on 127.0.0.1 that records what the bot sends and updates, as Teams or the Emulator
 * would receive it. Speaks the v3 REST routes the botbuilder ConnectorClient calls.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentActivity {
  /** The id the connector gave it (what a later card press carries as `replyToId`). */
  id: string;
  conversationId: string;
  /** Set when it was sent as a reply (`POST …/activities/{replyToId}`). */
  inReplyTo?: string;
  activity: Record<string, unknown>;
  /** When the connector took it (Date.now()). */
  at?: number;
}

export interface UpdatedActivity {
  id: string;
  conversationId: string;
  activity: Record<string, unknown>;
  /** Position among everything the connector received (sent and updated), for ordering checks. */
  seq: number;
}

export class FakeConnector {
  readonly sent: (SentActivity & { seq: number })[] = [];
  readonly updates: UpdatedActivity[] = [];
  /** Answer updates with 404, as the connector does for a message that no longer exists. */
  failUpdates = false;
  /** Runs before a POSTed activity is recorded and answered (tests slow one reply down with it). */
  beforePost?: (conversationId: string, activity: Record<string, unknown>) => Promise<void>;
  /** The next this-many POSTed activities are answered with `failStatus` and not recorded (a connector outage). */
  failPosts = 0;
  failStatus = 503;
  /** Every POST that reached the connector, failed ones included (to count the bot's attempts). */
  readonly postAttempts: { conversationId: string; status: number }[] = [];
  /**
   * POSTs this says yes to are held unanswered, as by a connector that hangs: listed in `held`, never
   * recorded as sent, and dropped once the bot closes the connection (a killed process).
   */
  hold?: (conversationId: string, activity: Record<string, unknown>) => boolean;
  readonly held: { conversationId: string; activity: Record<string, unknown>; at: number }[] = [];
  /** Conversation members by user id, as `GET /v3/conversations/{id}/members/{userId}` returns them (Teams: email, userPrincipalName). */
  readonly members = new Map<string, Record<string, unknown>>();
  /** Answer member look-ups with this status instead (e.g. 500, 403). */
  failMembers?: number;
  /** Every member look-up: which user of which conversation. */
  readonly memberLookups: { conversationId: string; userId: string }[] = [];
  private server?: Server;
  private seq = 0;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req)
        .then(({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: String(err) }));
        });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this.url;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Back to answering everything at once: no failures, holds or hooks (what it recorded stays). */
  reset(): void {
    this.failUpdates = false;
    this.beforePost = undefined;
    this.failPosts = 0;
    this.failStatus = 503;
    this.hold = undefined;
    this.failMembers = undefined;
  }

  /** What the bot sent to one conversation, in order. */
  sentTo(conversationId: string): (SentActivity & { seq: number })[] {
    return this.sent.filter((s) => s.conversationId === conversationId);
  }

  /** Messages only: a slow turn may also show "typing…", which is no reply. */
  messagesTo(conversationId: string): (SentActivity & { seq: number })[] {
    return this.sentTo(conversationId).filter((s) => (s.activity as { type?: string }).type === 'message');
  }

  updatesIn(conversationId: string): UpdatedActivity[] {
    return this.updates.filter((u) => u.conversationId === conversationId);
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const member = /^\/v3\/conversations\/([^/]+)\/members\/([^/]+)$/.exec(path);
    if (member && req.method === 'GET') {
      const lookup = { conversationId: decodeURIComponent(member[1]!), userId: decodeURIComponent(member[2]!) };
      this.memberLookups.push(lookup);
      if (this.failMembers) return { status: this.failMembers, body: { error: { code: 'ServiceError', message: 'unavailable' } } };
      const found = this.members.get(lookup.userId);
      return found ? { status: 200, body: found } : { status: 404, body: { error: { code: 'MemberNotFoundInConversation', message: 'not a member' } } };
    }
    const match = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(path);
    if (!match) return { status: 404, body: { error: { code: 'NotFound', message: path } } };
    const conversationId = decodeURIComponent(match[1]!);
    const activityId = match[2] ? decodeURIComponent(match[2]) : undefined;
    if (req.method === 'POST') {
      if (this.hold?.(conversationId, body)) {
        this.held.push({ conversationId, activity: body, at: Date.now() });
        await new Promise<void>((resolve) => (req.socket.destroyed ? resolve() : req.socket.once('close', () => resolve())));
        return { status: 503, body: { error: { code: 'ServiceUnavailable', message: 'held until the client went away' } } };
      }
      if (this.failPosts > 0) {
        this.failPosts -= 1;
        this.postAttempts.push({ conversationId, status: this.failStatus });
        return { status: this.failStatus, body: { error: { code: 'ServiceUnavailable', message: 'try again later' } } };
      }
      this.postAttempts.push({ conversationId, status: 200 });
      await this.beforePost?.(conversationId, body);
      const id = `bot-activity-${this.sent.length + 1}`;
      this.sent.push({ id, conversationId, ...(activityId ? { inReplyTo: activityId } : {}), activity: body, seq: ++this.seq, at: Date.now() });
      return { status: 200, body: { id } };
    }
    if (req.method === 'PUT' && activityId) {
      if (this.failUpdates) return { status: 404, body: { error: { code: 'ActivityNotFound', message: 'gone' } } };
      this.updates.push({ id: activityId, conversationId, activity: body, seq: ++this.seq });
      return { status: 200, body: { id: activityId } };
    }
    return { status: 405, body: { error: { code: 'MethodNotAllowed', message: req.method } } };
  }
}
