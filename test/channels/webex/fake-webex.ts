/**
 * A fake Webex API: a real HTTP server on 127.0.0.1 speaking the endpoints the bot uses, with
 * Webex's own shapes, ids and rules (bearer token, 7439-byte markdown limit, one Adaptive Card,
 * group spaces notify only on mentions, the bot's own messages notify too). It records what the bot
 * does, answers 429/5xx on demand, holds or delays answers on demand, and delivers webhook
 * notifications signed with each webhook's secret (X-Spark-Signature, HMAC-SHA1 of the exact bytes
 * sent). What a test scripts (failures, stalls, late answers) and did not use up is dropped by
 * `reset()`, which every Webex suite calls after each test.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakePerson {
  id: string;
  email: string;
  displayName: string;
}

export interface FakeRoom {
  id: string;
  type: 'direct' | 'group';
}

export interface FakeMessage {
  id: string;
  roomId: string;
  roomType: 'direct' | 'group';
  personId: string;
  personEmail: string;
  text?: string;
  markdown?: string;
  html?: string;
  files?: string[];
  mentionedPeople?: string[];
  attachments?: { contentType: string; content: Record<string, unknown> }[];
  /** A reply in a thread: the message it replies to. */
  parentId?: string;
  created: string;
}

export interface FakeWebhook {
  id: string;
  name: string;
  targetUrl: string;
  resource: string;
  event: string;
  secret?: string;
  status: 'active' | 'inactive' | 'disabled';
  created: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
}

interface ScriptedFailure {
  method: string;
  path: RegExp;
  status: number;
  retryAfter?: string;
}

interface FakeFile {
  name: string;
  contentType: string;
  content: Buffer;
}

export interface Delivery {
  webhookId: string;
  status: number;
  body: Buffer;
  signature?: string;
}

const MARKDOWN_MAX_BYTES = 7439;
const CARD_ELEMENTS = new Set(['TextBlock', 'FactSet', 'Container', 'ColumnSet', 'Column', 'Image']);
const CARD_ACTIONS = new Set(['Action.Submit', 'Action.OpenUrl']);

function webexId(kind: string): string {
  return Buffer.from(`ciscospark://us/${kind}/${randomUUID()}`).toString('base64').replace(/=+$/, '');
}

export class FakeWebex {
  readonly token = `fake-token-${randomUUID()}`;
  readonly bot: FakePerson;
  readonly requests: RecordedRequest[] = [];
  /** Messages the bot created, in order (deleted ones included, see `deleted`). */
  readonly posted: FakeMessage[] = [];
  readonly deleted: string[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly webhooks = new Map<string, FakeWebhook>();
  readonly deliveries: Delivery[] = [];
  private readonly actions = new Map<string, Record<string, unknown>>();
  private readonly people = new Map<string, FakePerson>();
  private readonly rooms = new Map<string, FakeRoom>();
  private readonly files = new Map<string, FakeFile>();
  private readonly failures: ScriptedFailure[] = [];
  private readonly stalls: { method: string; path: RegExp }[] = [];
  /** Requests the fake is holding without an answer (see `stallNext`). */
  readonly stalled: { method: string; path: string }[] = [];
  private readonly heldSockets = new Set<Socket>();
  private readonly lateAnswers: { method: string; path: RegExp; delayMs: number }[] = [];
  private readonly lateTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private server!: Server;
  private origin = '';

  private constructor(botName: string) {
    this.bot = { id: webexId('PEOPLE'), email: `${botName.toLowerCase().replace(/\W+/g, '')}@webex.bot`, displayName: botName };
  }

  static async start(options: { botName?: string } = {}): Promise<FakeWebex> {
    const fake = new FakeWebex(options.botName ?? 'PCE Helper');
    fake.server = createServer((req, res) => void fake.route(req, res));
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.origin = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The API base URL (what WEBEX_API_URL would be). */
  get url(): string {
    return `${this.origin}/v1`;
  }

  async close(): Promise<void> {
    this.reset();
    await this.idle();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A person Webex knows (GET /v1/people/{id} answers with their email). */
  person(displayName: string, email: string): FakePerson {
    const person = { id: webexId('PEOPLE'), email, displayName };
    this.people.set(person.id, person);
    return person;
  }

  room(type: 'direct' | 'group' = 'direct'): FakeRoom {
    const room = { id: webexId('ROOM'), type };
    this.rooms.set(room.id, room);
    return room;
  }

  /** The next `count` requests matching method + path are answered with `status` (e.g. 429 with Retry-After). */
  failNext(method: string, path: RegExp, status: number, options: { count?: number; retryAfter?: string } = {}): void {
    for (let i = 0; i < (options.count ?? 1); i++) this.failures.push({ method, path, status, retryAfter: options.retryAfter });
  }

  /**
   * The next request matching method + path is never answered: the fake holds it until the client
   * goes away (a process killed while it waits), as a Webex that stopped responding would.
   */
  stallNext(method: string, path: RegExp): void {
    this.stalls.push({ method, path });
  }

  /**
   * The next request matching method + path is done as usual (a message is posted) but answered only
   * after `delayMs`: a slow Webex, where a client that timed out first cannot know its request went through.
   */
  answerLateNext(method: string, path: RegExp, delayMs: number): void {
    this.lateAnswers.push({ method, path, delayMs });
  }

  /**
   * Forgets what was scripted and not used up (failures, stalls, late answers), drops the stalls
   * seen, and lets go of requests still held or waiting for a late answer (their connections are
   * closed), so nothing scripted by one test acts in the next.
   */
  reset(): void {
    this.failures.splice(0);
    this.stalls.splice(0);
    this.stalled.splice(0);
    this.lateAnswers.splice(0);
    for (const timer of this.lateTimers) clearTimeout(timer);
    this.lateTimers.clear();
    for (const socket of this.heldSockets) socket.destroy();
    this.heldSockets.clear();
  }

  /** True while the fake is delivering notifications. */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  /** Waits until every notification the fake is delivering has been answered. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** Messages the bot posted to a room and has not deleted. */
  visible(roomId: string): FakeMessage[] {
    return this.posted.filter((m) => m.roomId === roomId && !this.deleted.includes(m.id));
  }

  /** A person writes in a room. In a group space Webex notifies the bot only when it is mentioned. */
  async userSays(
    room: FakeRoom,
    person: FakePerson,
    text: string,
    options: { mention?: boolean; files?: FakeFile[]; parentId?: string } = {},
  ): Promise<{ message: FakeMessage; deliveries: Delivery[] }> {
    const mention = options.mention ?? room.type === 'group';
    const mentionHtml = `<spark-mention data-object-type="person" data-object-id="${this.bot.id}">${this.bot.displayName}</spark-mention>`;
    const files = (options.files ?? []).map((f) => {
      const id = webexId('CONTENT');
      this.files.set(id, f);
      return `${this.url}/contents/${id}`;
    });
    const message: FakeMessage = {
      id: webexId('MESSAGE'),
      roomId: room.id,
      roomType: room.type,
      personId: person.id,
      personEmail: person.email,
      text: mention ? `${this.bot.displayName} ${text}` : text,
      html: mention ? `<p>${mentionHtml} ${escapeHtml(text)}</p>` : undefined,
      mentionedPeople: mention ? [this.bot.id] : undefined,
      files: files.length ? files : undefined,
      ...(options.parentId ? { parentId: options.parentId } : {}),
      created: new Date().toISOString(),
    };
    this.messages.set(message.id, message);
    if (room.type === 'group' && !mention) return { message, deliveries: [] };
    const deliveries = await this.notify('messages', this.messageData(message));
    return { message, deliveries };
  }

  /** A person presses an Action.Submit on a card: Webex merges the action's data with Input.* values. */
  async userSubmits(
    room: FakeRoom,
    person: FakePerson,
    cardMessageId: string,
    inputs: Record<string, unknown>,
  ): Promise<{ actionId: string; deliveries: Delivery[] }> {
    const id = webexId('ATTACHMENT_ACTION');
    const created = new Date().toISOString();
    this.actions.set(id, { id, type: 'submit', messageId: cardMessageId, inputs, personId: person.id, roomId: room.id, created });
    const deliveries = await this.notify('attachmentActions', { id, type: 'submit', messageId: cardMessageId, personId: person.id, roomId: room.id, created });
    return { actionId: id, deliveries };
  }

  /**
   * `actor` adds the bot to a space: Webex creates the bot's membership and notifies the
   * `memberships` webhooks (data: the membership, whose person is the bot; actorId: who added it).
   */
  async addBot(room: FakeRoom, actor: FakePerson): Promise<{ membershipId: string; deliveries: Delivery[] }> {
    return this.addMember(room, actor, this.bot);
  }

  /** `actor` adds `member` to a space (memberships/created). */
  async addMember(room: FakeRoom, actor: FakePerson, member: FakePerson): Promise<{ membershipId: string; deliveries: Delivery[] }> {
    const membershipId = webexId('MEMBERSHIP');
    const data = {
      id: membershipId,
      roomId: room.id,
      roomType: room.type,
      personId: member.id,
      personEmail: member.email,
      personDisplayName: member.displayName,
      isModerator: false,
      isMonitor: false,
      created: new Date().toISOString(),
    };
    return { membershipId, deliveries: await this.notify('memberships', data, actor.id) };
  }

  /** Sends a `created` notification for `resource` to every active webhook registered for it. */
  async notify(resource: string, data: Record<string, unknown>, actorId: unknown = data.personId): Promise<Delivery[]> {
    const hooks = [...this.webhooks.values()].filter((w) => w.resource === resource && w.event === 'created' && w.status === 'active');
    return Promise.all(
      hooks.map((hook) => {
        const body = Buffer.from(
          JSON.stringify({
            id: hook.id,
            name: hook.name,
            targetUrl: hook.targetUrl,
            resource,
            event: 'created',
            orgId: webexId('ORGANIZATION'),
            createdBy: this.bot.id,
            appId: webexId('APPLICATION'),
            ownedBy: 'creator',
            status: 'active',
            created: hook.created,
            actorId,
            data,
          }),
        );
        const signature = hook.secret ? createHmac('sha1', hook.secret).update(body).digest('hex') : undefined;
        return this.deliver(hook, body, signature);
      }),
    );
  }

  /** Posts bytes to a webhook's target exactly as given (re-deliveries, forged or tampered bodies). */
  async deliver(hook: Pick<FakeWebhook, 'id' | 'targetUrl'>, body: Buffer, signature: string | undefined): Promise<Delivery> {
    const task = fetch(hook.targetUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature ? { 'x-spark-signature': signature } : {}) },
      body: new Uint8Array(body),
    }).then(async (res) => {
      await res.arrayBuffer();
      const delivery = { webhookId: hook.id, status: res.status, body, signature };
      this.deliveries.push(delivery);
      return delivery;
    });
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task)).catch(() => undefined);
    return task;
  }

  private messageData(m: FakeMessage): Record<string, unknown> {
    return {
      id: m.id,
      roomId: m.roomId,
      roomType: m.roomType,
      personId: m.personId,
      personEmail: m.personEmail,
      ...(m.mentionedPeople ? { mentionedPeople: m.mentionedPeople } : {}),
      created: m.created,
    };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const late = this.lateAnswers.findIndex((l) => l.method === method && l.path.test(path));
    const delayMs = late >= 0 ? this.lateAnswers.splice(late, 1)[0]!.delayMs : 0;
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method, path, status });
      const answer = () => {
        if (res.destroyed) return; // the client gave up waiting
        res.writeHead(status, { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), trackingid: `FAKE_${randomUUID()}`, ...headers });
        res.end(payload === undefined ? undefined : JSON.stringify(payload));
      };
      if (!delayMs) return answer();
      this.heldSockets.add(req.socket);
      const timer = setTimeout(() => {
        this.lateTimers.delete(timer);
        this.heldSockets.delete(req.socket);
        answer();
      }, delayMs);
      this.lateTimers.add(timer);
    };
    const error = (status: number, message: string) => send(status, { message, errors: [{ description: message }] });

    if (req.headers.authorization !== `Bearer ${this.token}`) return error(401, 'The request requires a valid access token set in the Authorization request header.');
    const stall = this.stalls.findIndex((f) => f.method === method && f.path.test(path));
    if (stall >= 0) {
      this.stalls.splice(stall, 1);
      this.stalled.push({ method, path });
      this.heldSockets.add(req.socket);
      await new Promise<void>((resolve) => (req.socket.destroyed ? resolve() : req.socket.once('close', () => resolve())));
      this.heldSockets.delete(req.socket);
      return;
    }
    const failure = this.failures.findIndex((f) => f.method === method && f.path.test(path));
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1);
      return send(f!.status, { message: `scripted ${f!.status}` }, f!.retryAfter ? { 'retry-after': f!.retryAfter } : {});
    }
    let json: Record<string, unknown> = {};
    if (body.length) {
      try {
        json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return error(400, 'Malformed JSON');
      }
    }

    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/v1/people/me') {
      return send(200, { id: this.bot.id, emails: [this.bot.email], displayName: this.bot.displayName, nickName: this.bot.displayName, type: 'bot' });
    }
    if (method === 'GET' && (m = /^\/v1\/people\/([^/]+)$/.exec(path))) {
      const person = this.people.get(decodeURIComponent(m[1]!));
      if (!person) return error(404, 'Person not found');
      return send(200, { id: person.id, emails: [person.email], displayName: person.displayName, type: 'person' });
    }
    if ((m = /^\/v1\/messages\/([^/]+)$/.exec(path))) {
      const message = this.messages.get(decodeURIComponent(m[1]!));
      if (!message || this.deleted.includes(message.id)) return error(404, 'Message not found');
      if (method === 'GET') return send(200, message);
      if (method === 'DELETE') {
        if (message.personId !== this.bot.id) return error(403, 'Only your own messages can be deleted');
        this.deleted.push(message.id);
        return send(204);
      }
    }
    if (method === 'POST' && path === '/v1/messages') return this.createMessage(json, send, error);
    if (method === 'GET' && (m = /^\/v1\/attachment\/actions\/([^/]+)$/.exec(path))) {
      const action = this.actions.get(decodeURIComponent(m[1]!));
      return action ? send(200, action) : error(404, 'Attachment action not found');
    }
    if ((method === 'HEAD' || method === 'GET') && (m = /^\/v1\/contents\/([^/]+)$/.exec(path))) {
      const file = this.files.get(decodeURIComponent(m[1]!));
      if (!file) return error(404, 'File not found');
      this.requests.push({ method, path, status: 200 });
      res.writeHead(200, {
        'content-type': file.contentType,
        'content-length': String(file.content.length),
        'content-disposition': `attachment; filename="${file.name}"`,
      });
      res.end(method === 'HEAD' ? undefined : file.content);
      return;
    }
    if (path === '/v1/webhooks' && method === 'GET') return send(200, { items: [...this.webhooks.values()] });
    if (path === '/v1/webhooks' && method === 'POST') {
      const { name, targetUrl, resource, event, secret } = json as Record<string, string | undefined>;
      if (!name || !targetUrl || !resource || !event) return error(400, 'name, targetUrl, resource and event are required');
      const hook: FakeWebhook = { id: webexId('WEBHOOK'), name, targetUrl, resource, event, secret, status: 'active', created: new Date().toISOString() };
      this.webhooks.set(hook.id, hook);
      return send(200, hook);
    }
    if ((m = /^\/v1\/webhooks\/([^/]+)$/.exec(path))) {
      const hook = this.webhooks.get(decodeURIComponent(m[1]!));
      if (!hook) return error(404, 'Webhook not found');
      if (method === 'PUT') {
        const { name, targetUrl, secret, status } = json as Record<string, string | undefined>;
        if (!name || !targetUrl) return error(400, 'name and targetUrl are required');
        Object.assign(hook, { name, targetUrl, ...(secret ? { secret } : {}), ...(status === 'active' || status === 'inactive' ? { status } : {}) });
        return send(200, hook);
      }
      if (method === 'DELETE') {
        this.webhooks.delete(hook.id);
        return send(204);
      }
    }
    return error(404, `No route for ${method} ${path}`);
  }

  private createMessage(
    json: Record<string, unknown>,
    send: (status: number, payload?: unknown) => void,
    error: (status: number, message: string) => void,
  ): void {
    const roomId = json.roomId;
    const room = typeof roomId === 'string' ? this.rooms.get(roomId) : undefined;
    if (!room) return error(404, 'Room not found');
    const markdown = typeof json.markdown === 'string' ? json.markdown : undefined;
    const text = typeof json.text === 'string' ? json.text : undefined;
    if (!markdown && !text) return error(400, 'A message needs text or markdown (the fallback for cards)');
    if (markdown && Buffer.byteLength(markdown, 'utf8') > MARKDOWN_MAX_BYTES) return error(400, 'Message markdown exceeds the maximum of 7439 bytes');
    const attachments = (json.attachments ?? []) as { contentType: string; content: Record<string, unknown> }[];
    if (!Array.isArray(attachments) || attachments.length > 1) return error(400, 'Only one attachment per message is supported');
    for (const a of attachments) {
      const problem = validateCard(a);
      if (problem) return error(400, problem);
    }
    const message: FakeMessage = {
      id: webexId('MESSAGE'),
      roomId: room.id,
      roomType: room.type,
      personId: this.bot.id,
      personEmail: this.bot.email,
      text: markdown ?? text,
      markdown,
      attachments: attachments.length ? attachments : undefined,
      ...(typeof json.parentId === 'string' ? { parentId: json.parentId } : {}),
      created: new Date().toISOString(),
    };
    this.messages.set(message.id, message);
    this.posted.push(message);
    send(200, message);
    // As in Webex, the bot's own message produces a notification to its messages webhook.
    const echo = this.notify('messages', this.messageData(message));
    this.inFlight.add(echo);
    void echo.finally(() => this.inFlight.delete(echo)).catch(() => undefined);
  }
}

/** Checks an attachment against what Webex accepts and what the bot promised to keep to. */
function validateCard(a: { contentType?: unknown; content?: Record<string, unknown> }): string | undefined {
  if (a.contentType !== 'application/vnd.microsoft.card.adaptive') return `Unsupported attachment contentType ${String(a.contentType)}`;
  const card = a.content;
  if (!card || card.type !== 'AdaptiveCard') return 'Attachment content must be an AdaptiveCard';
  if (card.version !== '1.3') return `Adaptive Card version ${String(card.version)} (expected 1.3)`;
  const walk = (elements: unknown): string | undefined => {
    for (const el of (elements ?? []) as Record<string, unknown>[]) {
      const type = String(el.type);
      if (!CARD_ELEMENTS.has(type) && !type.startsWith('Input.')) return `Unsupported card element ${type}`;
      const inner = walk(el.items) ?? walk(el.columns);
      if (inner) return inner;
    }
    return undefined;
  };
  const bodyProblem = walk(card.body);
  if (bodyProblem) return bodyProblem;
  for (const action of (card.actions ?? []) as Record<string, unknown>[]) {
    if (!CARD_ACTIONS.has(String(action.type))) return `Unsupported card action ${String(action.type)}`;
  }
  return undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
