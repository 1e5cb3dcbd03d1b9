/**
 * A ServiceNow instance on loopback, as far as the bot uses the Table API (basic auth): records of
 * one case table (create, query by an encoded `sysparm_query`, PATCH of `comments`) and the Journal
 * Entries table `sys_journal_field`, where journal fields keep their entries (`element` `comments`
 * or `work_notes`, `element_id` the record's sys_id, `value`, `sys_created_by`). The encoded query
 * understands what the bot sends: `field=value`, `field!=value`, `fieldINa,b`, `fieldLIKEtext`,
 * joined by `^`, and `ORDERBYfield`. Switches: a malformed answer for the next request to a table.
 */
import { createServer, type Server } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback';

export interface SnRecord {
  sys_id: string;
  number: string;
  state: string;
  hold_reason?: string;
  close_notes?: string;
  correlation_id: string;
  correlation_display: string;
  [field: string]: string | undefined;
}

export interface SnJournalEntry {
  sys_id: string;
  element_id: string;
  element: 'comments' | 'work_notes';
  value: string;
  sys_created_by: string;
  sys_created_on: string;
}

type Row = Record<string, string | undefined>;

function matches(row: Row, query: string): boolean {
  return query
    .split('^')
    .filter((c) => c && !c.startsWith('ORDERBY'))
    .every((cond) => {
      const m = /^([a-z_]+)(!=|=|IN|LIKE)(.*)$/.exec(cond);
      if (!m) return false;
      const [, field, op, value] = m as unknown as [string, string, string, string];
      const have = row[field] ?? '';
      if (op === '=') return have === value;
      if (op === '!=') return have !== value;
      if (op === 'IN') return value.split(',').includes(have);
      return have.includes(value);
    });
}

function pick(row: Row, fields: string | null): Row {
  if (!fields) return row;
  return Object.fromEntries(fields.split(',').map((f) => [f, row[f] ?? '']));
}

export class FakeServiceNow {
  readonly username = 'svc.bot';
  readonly password = 's3cret';
  readonly records: SnRecord[] = [];
  readonly journal: SnJournalEntry[] = [];
  readonly requests: { method: string; path: string; query: string }[] = [];
  private readonly malformed = new Map<string, unknown>();
  private server?: Server;
  private port = 0;
  private clock = Date.parse('2026-11-25T10:00:00Z');

  constructor(readonly table = 'sn_customerservice_case') {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  env(): Record<string, string> {
    return { CASE_BACKEND: 'servicenow', SERVICENOW_INSTANCE_URL: this.url, SERVICENOW_TABLE: this.table, SERVICENOW_USERNAME: this.username, SERVICENOW_PASSWORD: this.password };
  }

  record(reference: string): SnRecord | undefined {
    return this.records.find((r) => r.correlation_id === reference);
  }

  /** An agent moves the record to another state. */
  setState(reference: string, state: string, extra: { hold_reason?: string; close_notes?: string } = {}): void {
    Object.assign(this.record(reference)!, { state, ...extra });
  }

  /** An entry in the record's journal: a customer-visible comment or an internal work note. */
  addJournal(reference: string, element: SnJournalEntry['element'], value: string, by = 'tac.engineer'): SnJournalEntry {
    const entry: SnJournalEntry = {
      sys_id: `j${String(this.journal.length + 1).padStart(31, '0')}`,
      element_id: this.record(reference)!.sys_id,
      element,
      value,
      sys_created_by: by,
      sys_created_on: new Date((this.clock += 1000)).toISOString().replace('T', ' ').slice(0, 19),
    };
    this.journal.push(entry);
    return entry;
  }

  comments(reference: string): SnJournalEntry[] {
    const id = this.record(reference)?.sys_id;
    return this.journal.filter((j) => j.element_id === id && j.element === 'comments');
  }

  /** The next GET of `table` answers `body` (200). */
  answerOnce(table: string, body: unknown): void {
    this.malformed.set(table, body);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams.get('sysparm_query') ?? '' });
        const [status, body] = this.answer(req.method ?? '', url, req.headers.authorization, Buffer.concat(chunks).toString('utf8'));
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
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

  private answer(method: string, url: URL, authorization: string | undefined, body: string): [number, unknown] {
    if (authorization !== `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`) return [401, { error: { message: 'User Not Authenticated' } }];
    const m = /^\/api\/now\/table\/([a-z_]+)(?:\/([a-z0-9]+))?$/.exec(url.pathname);
    if (!m) return [404, { error: { message: 'Invalid path' } }];
    const [, table, sysId] = m as unknown as [string, string, string | undefined];
    const rows: Row[] | undefined = table === this.table ? this.records : table === 'sys_journal_field' ? (this.journal as unknown as Row[]) : undefined;
    if (!rows) return [404, { error: { message: 'Invalid table' } }];
    const query = url.searchParams.get('sysparm_query') ?? '';
    if (method === 'GET') {
      if (this.malformed.has(table)) {
        const odd = this.malformed.get(table);
        this.malformed.delete(table);
        return [200, odd];
      }
      const limit = Number(url.searchParams.get('sysparm_limit') ?? 10_000);
      return [200, { result: rows.filter((r) => matches(r, query)).slice(0, limit).map((r) => pick(r, url.searchParams.get('sysparm_fields'))) }];
    }
    if (method === 'POST' && table === this.table && !sysId) {
      const fields = JSON.parse(body) as Record<string, string>;
      const n = this.records.length + 1;
      const record: SnRecord = { state: '1', ...fields, sys_id: `s${String(n).padStart(31, '0')}`, number: `CS00${1000 + n}`, correlation_id: fields.correlation_id ?? '', correlation_display: fields.correlation_display ?? '' };
      this.records.push(record);
      return [201, { result: { sys_id: record.sys_id, number: record.number } }];
    }
    if (method === 'PATCH' && table === this.table && sysId) {
      const record = this.records.find((r) => r.sys_id === sysId);
      if (!record) return [404, { error: { message: 'No Record found' } }];
      const fields = JSON.parse(body) as Record<string, string>;
      // A journal field written through the Table API becomes a journal entry by the caller.
      if (fields.comments) this.addJournal(record.correlation_id, 'comments', fields.comments, this.username);
      return [200, { result: { sys_id: sysId } }];
    }
    return [400, { error: { message: 'bad request' } }];
  }
}

export async function startFakeServiceNow(table?: string): Promise<FakeServiceNow> {
  return new FakeServiceNow(table).start();
}
