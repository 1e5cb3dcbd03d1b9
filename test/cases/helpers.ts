/** Real local receivers for the case backends, and a way to put a case in a real store. */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { CaseRecord } from '../../src/cases/schema';
import { formatReference } from '../../src/cases/schema';
import { CaseRepository } from '../../src/cases/repository';
import type { SqlStore } from '../../src/storage/index';

export const CREATED_AT = '2026-11-25T10:00:00.000Z';

/** Commits a confirmed case the way a turn does (the case rides on commitTurn). */
export async function seedCase(store: SqlStore, overrides: Partial<CaseRecord> = {}): Promise<CaseRecord> {
  const repo = new CaseRepository(store);
  const reference = formatReference(await repo.nextNumber());
  const conversationKey = `test:${randomUUID()}`;
  const record: CaseRecord = {
    reference,
    requestType: 'Change Provisioning Contact Email',
    conversationKey,
    locale: 'uk',
    channel: 'webex',
    openedBy: { kind: 'person', userKey: 'webex:u1', name: 'Оксана', email: 'oksana@partner.example' },
    orderNumber: '104857391',
    subscriptionId: 'Sub123456',
    currentContactEmail: 'old@customer.example',
    newContactEmail: 'new@customer.example',
    orderLineStatus: 'awaiting',
    canEditInCcw: 'yes',
    ponrPassed: 'no',
    fixesTried: ['cache_cookies'],
    attachments: [{ name: 'error.png', contentType: 'image/png', size: 1024, url: 'https://files.example/error.png' }],
    reason: 'fixes_failed',
    trail: [
      { step: 'orderLineStatus', choice: 'awaiting' },
      { step: 'describe', text: 'поле не зберігається' },
    ],
    transcript: [{ at: CREATED_AT, from: 'user', text: 'Привіт' }],
    createdAt: CREATED_AT,
    delivery: { backend: 'webhook', status: 'pending', attempts: 0, nextAttemptAt: CREATED_AT },
    ...overrides,
  };
  await store.commitTurn({
    conversation: {
      key: conversationKey,
      channel: 'webex',
      flowId: 'support-case',
      flowVersion: 1,
      snapshot: null,
      locale: 'uk',
      parents: [],
      turn: 1,
      userId: 'u1',
      createdAt: CREATED_AT,
      updatedAt: CREATED_AT,
    },
    transcript: [],
    cases: [{ record, dedupeKey: `dedupe-${reference}` }],
  });
  return record;
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface HttpReceiver {
  readonly url: string;
  readonly port: number;
  readonly requests: Received[];
  /** Resolves once `count` requests have arrived in all (an event to wait on instead of a sleep). */
  arrived(count: number): Promise<void>;
  /** Closes the listener (the receiver is "down"); `start()` listens on the same port again. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

type Handler = (req: Received, res: ServerResponse) => void;

export async function httpReceiver(handler: Handler, port = 0): Promise<HttpReceiver> {
  const requests: Received[] = [];
  const waiting: { count: number; resolve: () => void }[] = [];
  let server: Server | undefined;
  let bound = port;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
          requests.push(received);
          for (const w of waiting.filter((w) => requests.length >= w.count)) {
            waiting.splice(waiting.indexOf(w), 1);
            w.resolve();
          }
          handler(received, res);
        });
      });
      server.once('error', reject);
      server.listen(bound, '127.0.0.1', () => {
        bound = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    get url() {
      return `http://127.0.0.1:${bound}`;
    },
    get port() {
      return bound;
    },
    requests,
    arrived(count) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise<void>((resolve) => waiting.push({ count, resolve }));
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start: listen,
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  // A request held open until the test released it may have been cut meanwhile (receiver stopped).
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** How the webhook receiver answers one request: a status, or a status with headers (e.g. Retry-After). */
export type WebhookAnswer = number | { status: number; headers?: Record<string, string> };

/**
 * A webhook receiver that checks the HMAC signature like a real one would, and de-duplicates by
 * Idempotency-Key. `answer` may return a promise: the request is held open until it settles.
 */
export async function webhookReceiver(secret: string, answer: (req: Received) => WebhookAnswer | Promise<WebhookAnswer> = () => 201, port = 0) {
  const accepted = new Map<string, unknown>();
  const receiver = await httpReceiver((req, res) => {
    const expected = `sha256=${createHmac('sha256', secret).update(req.body).digest('hex')}`;
    const given = String(req.headers['x-signature-256'] ?? '');
    if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return json(res, 401, { error: 'bad signature' });
    const key = String(req.headers['idempotency-key'] ?? '');
    void Promise.resolve(answer(req)).then((a) => {
      const { status, headers } = typeof a === 'number' ? { status: a, headers: {} } : a;
      if (status >= 300) return json(res, status, { error: 'no' }, headers);
      if (!accepted.has(key)) accepted.set(key, JSON.parse(req.body));
      json(res, status, { ticketId: `TCK-${key}` }, headers);
    });
  }, port);
  return { receiver, accepted };
}

export interface SmtpReceiver {
  readonly port: number;
  readonly messages: { from: string; to: string[]; raw: string; user?: string }[];
  close(): Promise<void>;
}

/** An SMTP server on loopback (no TLS) requiring the given credentials. */
export async function smtpReceiver(user: string, pass: string, rejectWith?: number): Promise<SmtpReceiver> {
  const messages: SmtpReceiver['messages'] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === pass) return cb(null, { user: auth.username });
      return cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (rejectWith) {
          const err = new Error('Mailbox unavailable') as Error & { responseCode: number };
          err.responseCode = rejectWith;
          return cb(err);
        }
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
  });
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The decoded content of the MIME part with this filename (base64 or quoted-printable or plain). */
export function mimePart(raw: string, filename: string): string | undefined {
  const at = raw.indexOf(`filename=${filename}`) >= 0 ? raw.indexOf(`filename=${filename}`) : raw.indexOf(`filename="${filename}"`);
  if (at < 0) return undefined;
  const headerStart = raw.lastIndexOf('\r\n--', at);
  const headers = raw.slice(headerStart, raw.indexOf('\r\n\r\n', at));
  const bodyStart = raw.indexOf('\r\n\r\n', at) + 4;
  const body = raw.slice(bodyStart, raw.indexOf('\r\n--', bodyStart));
  if (/content-transfer-encoding:\s*base64/i.test(headers)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
    return Buffer.from(
      body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  }
  return body;
}
