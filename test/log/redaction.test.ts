/**
 * Log redaction (issue 14, item 7): what reaches a log line, read back from the real pino logger.
 * Email addresses (Unicode ones too) and query strings never get there, at any depth, through any
 * field or message; the email scanner does linear work on adversarial input (counted, not timed).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { findEmails, redactEmails } from '../../src/log';
import { captureLogs, dataIn, startApp, useShared, useTempDir } from '../support';

function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? { level: i, inner: value } : [value];
  return value;
}

describe('email addresses in log records', () => {
  it('are redacted 40 levels deep, in objects and arrays alike', () => {
    const { logger, text } = captureLogs('debug');
    logger.info({ payload: nested(40, { note: 'contact ivan.petrenko@example.com' }) }, 'deep');
    expect(text()).not.toContain('ivan.petrenko@example.com');
    expect(text()).toContain('contact [email]');
  });

  it('are redacted in an object that refers to itself, which is logged instead of throwing', () => {
    const { logger, raw: lines } = captureLogs('debug');
    const record: Record<string, unknown> = { who: 'olena@example.org' };
    record.self = record;
    const shared = { email: 'shared@example.org' };
    expect(() => logger.info({ record, a: shared, b: shared }, 'cyclic')).not.toThrow();
    const line = JSON.parse(lines[0]!) as { record: { who: string; self: unknown }; a: unknown; b: unknown };
    expect(line.record).toEqual({ who: '[email]', self: '[Circular]' });
    // An object met twice but not in a cycle is written (and redacted) both times.
    expect(line.a).toEqual({ email: '[email]' });
    expect(line.b).toEqual({ email: '[email]' });
  });

  it('stay bounded on a graph that shares objects at every level (2^40 paths): walked up to a budget, the rest dropped', () => {
    const { logger, raw: lines } = captureLogs('debug');
    let node: Record<string, unknown> = { leaf: 'deep@example.com' };
    for (let i = 0; i < 40; i++) node = { left: node, right: node };
    logger.info({ node }, 'shared');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('deep@example.com');
    expect(lines[0]).toContain('[Truncated]');
  });

  it.each([
    ['a Cyrillic domain', 'ivan@пошта.укр'],
    ['a Cyrillic local part and domain', 'олена@приклад.укр'],
    ['a punycode domain, top-level label included', 'ivan@xn--80a1acny.xn--j1amh'],
    ['an ideographic full stop between labels', 'wang@例子。中国'],
    ['a plain ASCII address', 'first.last+tag@mail.example.co.uk'],
  ])('are redacted whole with %s', (_, email) => {
    expect(redactEmails(`write to ${email}, please`)).toBe('write to [email], please');
  });

  it('keep the text around them: a full stop ending the sentence, a mention, a host without a dot', () => {
    expect(redactEmails('Mail ivan@пошта.укр.')).toBe('Mail [email].');
    expect(redactEmails('ask @support or admin@localhost')).toBe('ask @support or admin@localhost');
    expect(redactEmails('a@b@c.com')).toBe('a@[email]');
  });

  it('are redacted in the message, in format arguments, in child bindings and in the message pino takes from an error', () => {
    const { logger, text } = captureLogs('debug');
    logger.info('person olena@приклад.укр wrote');
    logger.info('person %s wrote, %j', 'a1@example.com', { to: 'a2@example.com' });
    logger.child({ person: 'a3@example.com' }).info('child');
    logger.error(new Error('no mailbox a4@example.com'));
    logger.error({ err: new Error('no mailbox a5@example.com') });
    for (const leaked of ['олена@приклад.укр', 'a1@', 'a2@', 'a3@', 'a4@', 'a5@']) expect(text()).not.toContain(leaked);
  });

  it('are redacted in an error, its own fields and its cause, which keep what an operator needs', () => {
    const { logger, raw: lines } = captureLogs('debug');
    const cause = Object.assign(new Error('connect ECONNREFUSED for ops@example.com'), { code: 'ECONNREFUSED' });
    logger.warn({ err: new Error('delivery to x@example.com failed', { cause }) }, 'failed');
    const { err } = JSON.parse(lines[0]!) as { err: { message: string; stack: string; cause: { message: string; code: string } } };
    expect(err.message).toBe('delivery to [email] failed');
    expect(err.stack).not.toContain('x@example.com');
    expect(err.cause).toMatchObject({ message: 'connect ECONNREFUSED for [email]', code: 'ECONNREFUSED' });
  });
});

describe('the email scanner on adversarial input', () => {
  // Work is counted in characters read (stats.steps), not timed: a quadratic scanner reads a
  // 40 KB string sixteen times as often as a 10 KB one, a linear one four times.
  const adversarial: [string, (n: number) => string][] = [
    ['a run of local-part characters', (n) => 'a'.repeat(n - 1) + '@'],
    ['only @', (n) => '@'.repeat(n)],
    ['only dots after an @', (n) => 'a@' + '.'.repeat(n - 2)],
    ['a@ repeated', (n) => 'a@'.repeat(n / 2)],
    ['a@a. repeated', (n) => 'a@a.'.repeat(n / 4)],
    ['@ then a long domain without a top-level label', (n) => '@' + 'a'.repeat(n - 1)],
    ['labels forever', (n) => 'x@' + 'ab.'.repeat((n - 2) / 3)],
  ];

  it.each(adversarial)('reads each character a bounded number of times: %s', (_, make) => {
    const steps = (n: number) => {
      const stats = { steps: 0 };
      findEmails(make(n), stats);
      return stats.steps;
    };
    const small = steps(10_000);
    const large = steps(40_000);
    expect(small).toBeLessThanOrEqual(4 * 10_000);
    expect(large).toBeLessThanOrEqual(4.5 * small);
  });

  it('still finds a real address after 40 KB of adversarial text', () => {
    const text = `${'a.'.repeat(10_000)}@${'@'.repeat(10_000)} ${'a'.repeat(10_000)} mail olena@приклад.укр`;
    expect(redactEmails(text).endsWith(' mail [email]')).toBe(true);
  });
});

describe('query strings in log records', () => {
  it('are cut from URL-like fields, whatever the field is called', () => {
    const { logger, raw: lines } = captureLogs('debug');
    logger.debug(
      {
        url: '/?token=site-token-1234567890',
        path: '/directline/conversations?t=abc#frag',
        serviceUrl: 'https://smba.example/amer/?sig=s3cr3t',
        nested: { deeper: { targetUrl: 'http://127.0.0.1/hook?key=k3y' } },
        link: new URL('https://bot.example/files/1?token=f1le'),
      },
      'request',
    );
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      url: '/?[redacted]',
      path: '/directline/conversations?[redacted]',
      serviceUrl: 'https://smba.example/amer/?[redacted]',
      nested: { deeper: { targetUrl: 'http://127.0.0.1/hook?[redacted]' } },
      link: 'https://bot.example/files/1?[redacted]',
    });
    for (const secret of ['site-token-1234567890', 'abc', 'frag', 's3cr3t', 'k3y', 'f1le']) expect(lines[0]).not.toContain(secret);
  });

  it('and credentials stay out: an Authorization header, a password, the request an HTTP client error carries', () => {
    const { logger, text } = captureLogs('debug');
    const restError = Object.assign(new Error('Unauthorized'), {
      statusCode: 401,
      request: { url: 'https://smba.example/v3/conversations', headers: { authorization: 'Bearer eyJ-in-request' } },
    });
    logger.warn({ err: restError, headers: { Authorization: 'Bearer eyJ-in-headers' }, db: { password: 'pw-in-field' } }, 'refused');
    const out = text();
    for (const secret of ['eyJ-in-request', 'eyJ-in-headers', 'pw-in-field']) expect(out).not.toContain(secret);
    expect(JSON.parse(out)).toMatchObject({ err: { message: 'Unauthorized', statusCode: 401 } });
  });

  it('and a request object is written as its method and path, never its query or its socket', async () => {
    const { logger, raw: lines } = captureLogs('trace');
    const server = createServer((req, res) => {
      logger.warn({ req, res }, 'as restify logs them');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/directline?token=req-tok-1`)).arrayBuffer();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ req: { method: 'GET', path: '/directline?[redacted]' }, res: { statusCode: 200 } });
    expect(lines[0]).not.toContain('req-tok-1');
  });

  it('lose their values in free text: messages, error messages and stacks', () => {
    const { logger, text } = captureLogs('debug');
    logger.warn('GET /?token=tok-in-message failed');
    logger.error({ err: new Error('Failed to fetch http://h.example/a?code=tok-in-error&lang=en#access_token=tok-in-fragment') }, 'failed');
    const out = text();
    for (const secret of ['tok-in-message', 'tok-in-error', 'tok-in-fragment']) expect(out).not.toContain(secret);
    expect(out).toContain('?code=[redacted]&lang=[redacted]#access_token=[redacted]');
  });
});

describe('the running bot at debug level', () => {
  const WEBCHAT_TOKEN = 'the-site-token-0123456789abcdef';
  const dir = useTempDir('log-redaction-', 'all');
  const log = captureLogs('debug');
  const bot = useShared(() => startApp({ NODE_ENV: 'test', LOG_LEVEL: 'debug', ...dataIn(dir.path), WEBCHAT_TOKEN }, { logger: log.logger }));

  it('never logs the site token or any other query value, whatever the request gets as an answer', async () => {
    const asked = [
      `/?token=${WEBCHAT_TOKEN}`,
      `/no-such-page?token=${WEBCHAT_TOKEN}`,
      `/directline/conversations?token=${WEBCHAT_TOKEN}`,
      '/?token=guessed-token-value-42',
    ];
    for (const path of asked) {
      // From "another host" too, so access checks that trust loopback refuse it and say why.
      for (const headers of [{}, { 'x-forwarded-for': '203.0.113.9' }] as Record<string, string>[]) {
        const res = await fetch(`${bot.url}${path}`, { method: path.startsWith('/directline') ? 'POST' : 'GET', headers });
        await res.arrayBuffer();
      }
    }
    expect(log.lines.length).toBeGreaterThan(0);
    expect(log.text()).not.toContain(WEBCHAT_TOKEN);
    expect(log.text()).not.toContain('guessed-token-value-42');
  });
});
