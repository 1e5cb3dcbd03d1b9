/**
 * Structured logs (pino). Personal data and secrets stay out: every string in a log record, at any
 * depth, the message included, has email addresses (Unicode ones too) and query-parameter values
 * replaced before it is written, and a URL-like field (`url`, `path`, `serviceUrl`, …) loses its
 * query string and fragment, so no caller can log a `?token=…` however it builds the record.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger, type DestinationStream } from 'pino';

const EMAIL = '[email]';
const REDACTED = '[redacted]';

/** Unicode letters, marks and digits: the characters of IDN labels and internationalised local parts. */
const UNICODE_WORD = /[\p{L}\p{M}\p{N}]/u;

function isWordChar(code: number): boolean {
  if (code < 0x80) return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39);
  // Surrogate halves are taken as word characters: redacting a little too much beats letting a part through.
  if (code >= 0xd800 && code <= 0xdfff) return true;
  return UNICODE_WORD.test(String.fromCharCode(code));
}

function isLocalChar(code: number): boolean {
  // . _ % + -
  return code === 0x2e || code === 0x5f || code === 0x25 || code === 0x2b || code === 0x2d || isWordChar(code);
}

/** Label separators: the ASCII dot and the ideographic / full-width dots IDNA reads as dots. */
function isDot(code: number): boolean {
  return code === 0x2e || code === 0x3002 || code === 0xff0e || code === 0xff61;
}

function isDomainChar(code: number): boolean {
  return code === 0x2d || isDot(code) || isWordChar(code);
}

/**
 * Where the email addresses in `text` are, as [start, end) pairs. A hand scanner rather than a
 * regex, because a regex of this shape is retried from every start position (quadratic on a long
 * run of local-part characters). Here each `@` scans left at most to the previous `@` (or the end
 * of the previous address) and right at most to the next `@`, so every character is read a bounded
 * number of times: linear, whatever the input. `stats.steps` counts the characters read (tests).
 */
export function findEmails(text: string, stats?: { steps: number }): [number, number][] {
  const spans: [number, number][] = [];
  let floor = 0;
  let steps = 0;
  for (let at = text.indexOf('@'); at >= 0; ) {
    let start = at;
    while (start > floor && isLocalChar(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isDomainChar(text.charCodeAt(end))) end++;
    steps += end - start;
    // A sentence may end right after the address ("write to ivan@example.com."): not part of it.
    while (end > at + 1 && (isDot(text.charCodeAt(end - 1)) || text.charCodeAt(end - 1) === 0x2d)) end--;
    let lastDot = end - 1;
    while (lastDot > at && !isDot(text.charCodeAt(lastDot))) lastDot--;
    steps += 2 * (end - lastDot);
    // A domain is something.tld, the top-level label two or more characters starting with a letter.
    const valid = start < at && lastDot > at + 1 && end - lastDot > 2 && isTldStart(text.charCodeAt(lastDot + 1));
    if (valid) spans.push([start, end]);
    floor = valid ? end : at + 1;
    at = text.indexOf('@', floor);
  }
  if (stats) stats.steps += steps;
  return spans;
}

function isTldStart(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x80 && isWordChar(code));
}

export function redactEmails(text: string): string {
  if (!text.includes('@')) return text;
  const spans = findEmails(text);
  if (!spans.length) return text;
  let out = '';
  let last = 0;
  for (const [start, end] of spans) {
    out += text.slice(last, start) + EMAIL;
    last = end;
  }
  return out + text.slice(last);
}

/**
 * A query or fragment parameter (`?token=…`, `&code=…`, `#access_token=…`) in free text (error
 * messages, stacks): the value goes. The name is bounded and the value ends at the next separator,
 * so each match costs at most its own length plus 64: linear.
 */
const QUERY_PARAMETER = /([?&#])([^\s=&#?]{1,64})=[^\s&#]*/g;

function redactQueryValues(text: string): string {
  if (!text.includes('=')) return text;
  return text.replace(QUERY_PARAMETER, (_, separator: string, name: string) => `${separator}${name}=${REDACTED}`);
}

/** Every string written to the log goes through this. */
export function redactText(text: string): string {
  return redactQueryValues(redactEmails(text));
}

/** Fields that hold a URL or a request path: their query string and fragment are never logged. */
const URL_LIKE_KEY = /(?:url|uri|href|path|location|referr?er|link)$/i;

/** Fields that hold a credential (a header map's `authorization`, a `password`, an `accessToken`): never logged. */
const SECRET_KEY = /(?:authorization|cookie|password|passwd|secret|token|api[-_]?key)$/i;

function withoutQuery(value: string): string {
  const cut = value.search(/[?#]/);
  return cut < 0 ? value : `${value.slice(0, cut)}?${REDACTED}`;
}

/** Far deeper than any record we write: beyond it a subtree is dropped rather than written unredacted. */
const MAX_DEPTH = 100;
/**
 * Objects one record may have walked: a record is a few dozen; something like a socket's whole
 * graph stops here (shared references are walked again where they recur, as JSON.stringify would).
 */
const MAX_OBJECTS = 5_000;

interface Walk {
  /** The objects on the way from the root to here: meeting one again is a cycle. */
  path: Set<object>;
  /** Objects that may still be walked. */
  left: number;
}

/**
 * A copy of `value` with every string redacted, at any depth. Objects are copied only where
 * something changed (a record without personal data costs a walk, not a copy); an object met again
 * on its own path (a cycle) is written as `[Circular]`, as pino itself would.
 */
function redactDeep(value: unknown, key = '', walk: Walk = { path: new Set(), left: MAX_OBJECTS }, depth = 0): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) return REDACTED;
    return redactText(URL_LIKE_KEY.test(key) ? withoutQuery(value) : value);
  }
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (walk.path.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH || --walk.left < 0) return '[Truncated]';
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[binary: ${value.byteLength} bytes]`;
  // A request or response (restify logs them at trace level): what it is, not its socket's graph.
  if (value instanceof IncomingMessage) return { method: value.method, path: redactText(withoutQuery(value.url ?? '')) };
  if (value instanceof ServerResponse) return { statusCode: value.statusCode };
  walk.path.add(value);
  try {
    if (value instanceof URL) return redactText(withoutQuery(value.href));
    if (value instanceof Error) return redactError(value, walk, depth);
    // What JSON.stringify would write instead (a URL-like class, a custom toJSON): redact that.
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return redactDeep(toJSON.call(value), key, walk, depth + 1);
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        const r = redactDeep(v, key, walk, depth + 1);
        if (r !== v) (copy ??= value.slice())[i] = r;
      }
      return copy ?? value;
    }
    let copy: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const r = redactDeep(v, k, walk, depth + 1);
      if (r !== v) (copy ??= { ...value })[k] = r;
    }
    return copy ?? value;
  } finally {
    walk.path.delete(value);
  }
}

/**
 * An error as a plain object: its own scalar fields (code, status, path…) and its cause, redacted.
 * Object fields are left out: an HTTP client's error carries the request, Authorization header included.
 */
function redactError(err: Error, walk: Walk, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.name, message: redactText(err.message) };
  if (err.stack) out.stack = redactText(err.stack);
  for (const [k, v] of Object.entries(err)) {
    if (!(k in out) && (v === null || typeof v !== 'object') && typeof v !== 'function') out[k] = redactDeep(v, k, walk, depth + 1);
  }
  if (err.cause !== undefined) out.cause = redactDeep(err.cause, 'cause', walk, depth + 1);
  if (err instanceof AggregateError) out.errors = redactDeep(err.errors, 'errors', walk, depth + 1);
  return out;
}

/** The message pino takes from an Error, or from `err`, when a call gives none. */
function impliedMessage(first: unknown): string | undefined {
  if (first instanceof Error) return first.message;
  const err = first && typeof first === 'object' && !('msg' in first) ? (first as { err?: unknown }).err : undefined;
  const message = err && typeof err === 'object' ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : undefined;
}

export type { Logger };

export function createLogger(level: string = 'info', destination?: DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: undefined,
      formatters: { log: (obj) => redactDeep(obj) as Record<string, unknown> },
      // Errors arrive here already as redacted plain objects (redactError); pino's own serializer
      // would rename their type to "Object" and fold the causes' messages into `message`.
      serializers: { err: (value: unknown) => value },
      hooks: {
        logMethod(args, method) {
          const redacted: unknown[] = args.map((a, i) => (typeof a === 'string' ? redactText(a) : i === 0 ? a : redactDeep(a)));
          // Without a message pino would copy the error's message as it is: give it the redacted one.
          if (redacted.length === 1) {
            const implied = impliedMessage(redacted[0]);
            if (implied !== undefined) redacted.push(redactText(implied));
          }
          return method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
  // pino writes a child's bindings without the log formatter (and resets the bindings formatter for
  // children), so they are redacted on the way in. Children inherit this `child` from the root.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactDeep(bindings) as typeof bindings, options);
  } as typeof logger.child;
  return logger;
}
