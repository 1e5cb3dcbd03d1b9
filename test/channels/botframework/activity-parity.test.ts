/**
 * Issue 19: the activity check written by hand (src/channels/botframework/activity-check.ts) takes and
 * refuses exactly what the zod schema it replaced did, and returns the same activity; so do the press
 * and attachment readings and `toInbound` built on it. A corpus of real activities (Teams, the
 * Emulator, Web Chat, the bench's) and every one of them mutated at every field, with hostile values:
 * wrong types, control characters, strings at and over every length bound (in UTF-16 units and in code
 * points), non-http URLs, missing fields, prototype keys. The old schema lives in ./legacy-activity.ts.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ActivityError, incomingActivity, pressOf, stripMentions, toAttachmentRefs, toInbound, type IncomingActivity } from '../../../src/channels/botframework/activity';
import * as legacy from './legacy-activity';

const from = { id: '29:1ZlQ0p6nQ8h1PqN7rS9wXyZ3vB2mK4jL6hG8fD0sA1qW3e', name: 'Olena Kovalenko', aadObjectId: '6b3f2c1d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' };
const conversation = { conversationType: 'personal', tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', id: 'a:1kD8f7G6h5J4k3L2m1N0pQ9rS8tU7vW6xY5zA4bC3dE2fG1hJ0kL9' };
const recipient = { id: '28:0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f', name: 'PCE Support' };
const clientInfo = { locale: 'en-US', country: 'US', platform: 'Windows', timezone: 'Europe/Kyiv', type: 'clientInfo' };
const teams = { channelId: 'msteams', serviceUrl: 'https://smba.trafficmanager.net/emea/', from, conversation, recipient, entities: [clientInfo], channelData: { tenant: { id: conversation.tenantId } } };

/** Activities as the channels send them; each is mutated field by field below. */
const CORPUS: Record<string, Record<string, unknown>> = {
  'a Teams message with files': {
    ...teams,
    type: 'message',
    id: '1741944413395',
    timestamp: '2025-03-14T09:26:53.4128031Z',
    localTimestamp: '2025-03-14T11:26:53.4128031+02:00',
    text: '<at>PCE Support</at> my email never arrived',
    textFormat: 'plain',
    locale: 'en-US',
    attachments: [
      { contentType: 'text/html', content: '<p>my email never arrived</p>' },
      { contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'ccw-error.png', content: { downloadUrl: 'https://tenant.sharepoint.com/d/ccw-error.png', fileType: 'png', uniqueId: 'u1' } },
      { contentType: 'application/pdf', name: 'a.pdf', contentUrl: 'https://smba.trafficmanager.net/emea/v3/attachments/x', content: { size: 2048 } },
    ],
  },
  'a Teams Action.Execute press': {
    ...teams,
    type: 'invoke',
    name: 'adaptiveCard/action',
    id: 'f:4f2b8a3e-1c5d-4e6f-8a7b-9c0d1e2f3a4b',
    replyToId: '1741944414000',
    value: { action: { type: 'Action.Execute', title: 'Not yet', verb: 'choose', data: { choice: 'no', step: 'emailReceived', prompt: 'Did it arrive?', label: 'Not yet' } }, trigger: 'manual' },
  },
  'an Action.Submit press': { ...teams, type: 'message', id: 'act-2', text: '', value: { choice: 'closed', step: 'orderLineStatus', prompt: 'Which status?', label: 'Closed' } },
  'the bot added to a Teams chat': { ...teams, type: 'conversationUpdate', id: 'f:1', membersAdded: [{ id: recipient.id }, { id: from.id, name: from.name }] },
  'an Emulator message replied in the body': {
    type: 'message',
    id: '8a7c1e52-5f1b-4d4e-9d55-6cf1e0d0b2a1',
    channelId: 'emulator',
    serviceUrl: 'http://127.0.0.1:9/',
    from: { id: 'user-1', name: 'Olena Partner' },
    conversation: { id: 'conv-1' },
    recipient: { id: 'bot', name: 'PCE Support' },
    locale: 'uk-UA',
    deliveryMode: 'expectReplies',
    text: 'допоможіть',
  },
  'a Web Chat message from the page': {
    type: 'message',
    id: 'dl-1',
    channelId: 'directline',
    serviceUrl: 'https://bot.invalid/in-process',
    from: { id: 'dl_user' },
    conversation: { id: 'dl-conv' },
    recipient: { id: 'bot' },
    deliveryMode: 'expectReplies',
    text: '',
    value: { choice: 'cmd.lang_uk' },
  },
  'the fewest fields': { type: 'typing', channelId: 'x', serviceUrl: 'http://a', conversation: { id: 'c' }, from: { id: 'u' }, recipient: { id: 'b' } },
};

const codePoints = (n: number) => '\u{1F600}'.repeat(n);
const BOUNDS = [1, 35, 64, 128, 200, 256, 400, 512, 1024, 4000, 4096];
/** Strings at and just over every bound of the schema, in UTF-16 units and in code points. */
const LENGTHS = BOUNDS.flatMap((n) => ['a'.repeat(n), 'a'.repeat(n + 1), codePoints(n), codePoints(n + 1), `${'a'.repeat(n - 1)}\u{1F600}`, `${'a'.repeat(n)}\uD83D`]);
const HOSTILE: unknown[] = [
  undefined, null, 0, -0, 1.5, -1, 2048, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, true, false, [], [1], ['a'], {}, { id: 'x' }, { type: 'clientInfo', locale: 'uk' },
  '', ' ', 'x', '\u0000', 'a\u0000b', '\n', 'a\tb', 'a\r\nb', '\u0085', 'a\u007f', '\u001b[31m', '\u2028', '\uFEFF', '\uD83D', '\uDE00a',
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype',
  'javascript:alert(1)', 'ftp://x.test/', 'file:///etc/passwd', 'data:text/plain,hi', 'http:example.com', 'https:/x.test', '//x.test', ' https://x.test/ ', '\thttps://x.test/\n',
  'https://exa\nmple.com/', 'https://x.test/a\tb', 'HTTPS://X.TEST', 'https://', 'http://', '\u0000https://x.test', 'https://x.test/\u0000', '\uFEFFhttps://x.test', '\u00A0https://x.test',
  'http://[::1]:3978/', 'https://a b.test', 'https://x.test:99999', 'http://localhost', 'wss://x.test',
  'msteams', 'emulator', '-x', '_x', 'a.b-c_d', 'a b', 'teams/x', 'ms\u0000teams', 'ünïcode', 'a'.repeat(63), 'a'.repeat(64), 'a'.repeat(65),
  'message', 'invoke', 'conversationUpdate', 'adaptiveCard/action', 'Action.Execute', 'Action.Submit', 'clientInfo', 'expectReplies',
  'text/html', 'image/png', 'application/vnd.microsoft.card.adaptive', 'application/vnd.microsoft.teams.file.download.info', 'PNG', 'exe',
  '<at>Bot</at>', 'cmd.lang_uk', 'en-US', 'uk-UA',
  ...LENGTHS,
];
/** Keys that must never become a prototype, or shadow one, whatever the channel sends. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

type Path = (string | number)[];

function pathsOf(value: unknown, path: Path = []): { path: Path; container: 'object' | 'array' | 'leaf' }[] {
  const out: { path: Path; container: 'object' | 'array' | 'leaf' }[] = [];
  if (Array.isArray(value)) {
    out.push({ path, container: 'array' });
    value.forEach((v, i) => out.push(...pathsOf(v, [...path, i])));
  } else if (value && typeof value === 'object') {
    out.push({ path, container: 'object' });
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...path, k]));
  } else out.push({ path, container: 'leaf' });
  return out;
}

function at(root: unknown, path: Path): Record<string | number, unknown> {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root) as Record<string | number, unknown>;
}

/** A fresh copy of `base` with `change` made to it (each check gets its own: neither may see the other's). */
function variant(base: string, change: (root: Record<string, unknown>) => void): () => unknown {
  return () => {
    const root = JSON.parse(base) as Record<string, unknown>;
    change(root);
    return root;
  };
}

interface Case {
  name: string;
  make: () => unknown;
}

function corpus(): Case[] {
  const cases: Case[] = [];
  for (const [name, activity] of Object.entries(CORPUS)) {
    const base = JSON.stringify(activity);
    cases.push({ name, make: variant(base, () => undefined) });
    for (const { path, container } of pathsOf(activity)) {
      const where = `${name} ${path.join('.') || '(activity)'}`;
      const parent = path.slice(0, -1);
      const key = path.at(-1);
      if (key !== undefined) {
        cases.push({ name: `${where} deleted`, make: variant(base, (root) => void delete at(root, parent)[key]) });
        HOSTILE.forEach((value, i) => cases.push({ name: `${where} = HOSTILE[${i}]`, make: variant(base, (root) => void (at(root, parent)[key] = value)) }));
      }
      if (container === 'object') {
        for (const k of PROTOTYPE_KEYS) {
          for (const value of [{ polluted: true }, 'x', null]) {
            // An own property, as JSON.parse makes one of `"__proto__": …` (an assignment would set the prototype).
            const own = (root: Record<string, unknown>) => void Object.defineProperty(at(root, path), k, { value, enumerable: true, writable: true, configurable: true });
            cases.push({ name: `${where} own ${k} = ${JSON.stringify(value)}`, make: variant(base, own) });
          }
        }
        cases.push({ name: `${where} parsed with __proto__`, make: () => JSON.parse(base.replace(/\{/g, '{"__proto__":{"polluted":true},')) });
      }
    }
  }
  return cases;
}

/** A fileType naming one of Object's members found that member where a media type was expected; now it is unknown. */
function withoutPrototypeMediaTypes(inbound: ReturnType<typeof legacy.toInbound>): ReturnType<typeof legacy.toInbound> {
  if (!inbound?.attachments) return inbound;
  const attachments = inbound.attachments.map((a) => (typeof a.contentType === 'string' ? a : { ...a, contentType: 'application/octet-stream' }));
  return { ...inbound, attachments };
}

/** What the old and the new reading make of one input, where they differ (nothing, when they agree). */
function differences(make: () => unknown): string[] {
  const input = make();
  const before = JSON.stringify(input);
  const now = incomingActivity.safeParse(input);
  const old = legacy.incomingActivity.safeParse(make());
  const out: string[] = [];
  if (JSON.stringify(input) !== before) out.push('the input changed');
  if (now.success !== old.success) return [...out, `${old.success ? 'took' : 'refused'} before, ${now.success ? 'takes' : 'refuses'} now`];
  if (!now.success || !old.success) {
    if (!(now.error instanceof ActivityError)) out.push('no ActivityError');
    return out;
  }
  if (!isDeepStrictEqual(now.data, old.data)) out.push('activity');
  for (const authenticated of [false, true]) {
    const inbound = toInbound(now.data, { authenticated });
    if (!isDeepStrictEqual(inbound, withoutPrototypeMediaTypes(legacy.toInbound(old.data, { authenticated })))) out.push(`toInbound(authenticated: ${authenticated})`);
  }
  if (!isDeepStrictEqual(pressOf(now.data), legacy.pressOf(old.data))) out.push('pressOf');
  return out;
}

describe('the hand-written activity check against the zod schema it replaced', () => {
  const cases = corpus();

  it(`agrees on ${cases.length} activities, real and mutated: taken or refused, and what is read from them`, () => {
    const disagreements: string[] = [];
    let taken = 0;
    for (const c of cases) {
      const found = differences(c.make);
      if (found.length) disagreements.push(`${c.name}: ${found.join(', ')}`);
      if (incomingActivity.safeParse(c.make()).success) taken++;
    }
    expect(disagreements.slice(0, 20)).toEqual([]);
    // Both sides of the line are covered.
    expect(taken).toBeGreaterThan(cases.length / 3);
    expect(cases.length - taken).toBeGreaterThan(cases.length / 10);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('agrees on bodies that are no activity at all', () => {
    for (const body of [undefined, null, 0, 'message', [], [CORPUS['the fewest fields']], true, {}, Number.NaN]) expect(differences(() => body), String(body)).toEqual([]);
  });

  it('keeps nothing of an own __proto__ key, at any depth', () => {
    const parsed = incomingActivity.parse(JSON.parse(JSON.stringify(CORPUS['a Teams message with files']).replace(/\{/g, '{"__proto__":{"polluted":true},')));
    for (const object of [parsed, parsed.from, parsed.recipient, parsed.conversation, ...(parsed.attachments ?? []), ...(parsed.entities ?? [])]) {
      expect(Object.hasOwn(object, '__proto__')).toBe(false);
      expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
    }
    expect(({ ...parsed } as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.assign({}, parsed.from) as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('is at least as strict on inputs JSON cannot make: what it takes, the schema took the same', () => {
    const valid = CORPUS['a Teams message with files']!;
    const getter = { ...valid };
    let reads = 0;
    Object.defineProperty(getter, 'type', { enumerable: true, get: () => (reads++ ? '\u0000' : 'message') });
    class Body {
      constructor() {
        Object.assign(this, valid);
      }
    }
    const inputs: [string, () => unknown][] = [
      ['fields inherited from a prototype', () => Object.create(valid) as unknown],
      ['a class instance', () => new Body()],
      ['a getter that answers differently the second time', () => ((reads = 0), getter)],
      ['a symbol key', () => ({ ...valid, [Symbol('s')]: 1 })],
      ['a Date', () => new Date()],
      ['a Map', () => new Map(Object.entries(valid))],
    ];
    for (const [what, make] of inputs) {
      const now = incomingActivity.safeParse(make());
      const old = legacy.incomingActivity.safeParse(make());
      if (!now.success) continue;
      expect(old.success, what).toBe(true);
      expect(now.data.type, what).toBe(old.data!.type);
      expect(now.data.text, what).toBe(old.data!.text);
      if (now.success) expect(now.data.type).not.toContain('\u0000');
    }
    // Inherited fields are no activity's own: refused now (the schema read them through the prototype).
    expect(incomingActivity.safeParse(Object.create(valid)).success).toBe(false);
  });

  it('strips mentions and whitespace as before, also where it skips the work for a tidy text', () => {
    const tokens = ['a', 'ü', ' ', '  ', '\t', '\n', '\r\n', '\u00A0', '\u2028', '\uFEFF', '<at>', '</at>', '<AT>Bot</At>', '<at>PCE Support</at>', '<', '\u0085'];
    let texts = [''];
    for (let length = 0; length < 4; length++) texts = [...texts, ...texts.flatMap((t) => tokens.map((token) => t + token))];
    for (const text of new Set(texts)) expect(stripMentions(text), JSON.stringify(text)).toBe(legacy.stripMentions(text));
  });

  it('maps a fileType naming an Object member to no media type (the old lookup returned the member itself)', () => {
    for (const fileType of ['constructor', '__proto__', 'Constructor']) {
      const content = JSON.parse(`{"downloadUrl":"https://x.test/f","fileType":${JSON.stringify(fileType)}}`) as unknown;
      const attachments = [{ contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'f', content }];
      expect(toAttachmentRefs(attachments)).toEqual([{ name: 'f', contentType: 'application/octet-stream', url: 'https://x.test/f' }]);
      expect(typeof legacy.toAttachmentRefs(attachments)[0]?.contentType).not.toBe('string');
    }
  });

  it('says which field it refused, for the logs', () => {
    const refused = (fields: Record<string, unknown>) => {
      const result = incomingActivity.safeParse({ ...CORPUS['the fewest fields'], ...fields });
      return result.success ? undefined : result.error;
    };
    expect(refused({ conversation: { id: 'c\u0000' } })).toMatchObject({ path: 'conversation.id', message: expect.stringMatching(/^activity\.conversation\.id .*control character/) });
    expect(refused({ serviceUrl: 'javascript:alert(1)' })?.path).toBe('serviceUrl');
    expect(refused({ membersAdded: [{ id: '' }] })?.path).toBe('membersAdded[].id');
    expect(incomingActivity.safeParse([]).error?.message).toBe('the activity is not an object');
    expect(() => incomingActivity.parse({})).toThrow(ActivityError);
  });

  it('returns a copy: changing it leaves the request body as it was', () => {
    const body = JSON.parse(JSON.stringify(CORPUS['a Teams message with files'])) as Record<string, unknown>;
    const activity: IncomingActivity = incomingActivity.parse(body);
    expect(activity).not.toBe(body);
    expect(activity.from).not.toBe(body.from);
    expect(activity.attachments).not.toBe(body.attachments);
    expect(activity.channelData).toBe(body.channelData); // what the check does not read passes as it came
  });
});
