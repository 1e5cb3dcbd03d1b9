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

  /** What the bot sent to one conversation, in order. */
  sentTo(conversationId: string): (SentActivity & { seq: number })[] {
    return this.sent.filter((s) => s.conversationId === conversationId);
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
    const match = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(path);
    if (!match) return { status: 404, body: { error: { code: 'NotFound', message: path } } };
    const conversationId = decodeURIComponent(match[1]!);
    const activityId = match[2] ? decodeURIComponent(match[2]) : undefined;
    if (req.method === 'POST') {
      await this.beforePost?.(conversationId, body);
      const id = `bot-activity-${this.sent.length + 1}`;
      this.sent.push({ id, conversationId, ...(activityId ? { inReplyTo: activityId } : {}), activity: body, seq: ++this.seq });
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
