import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebexWebhookVerifier } from '../../../src/channels/webex/signature';

const body = Buffer.from('{"resource":"messages","event":"created","data":{"id":"abc"}}');
const verifier = new WebexWebhookVerifier('s3cret');
const good = createHmac('sha1', 's3cret').update(body).digest('hex');

describe('WebexWebhookVerifier', () => {
  it('accepts the hex HMAC-SHA1 of the exact bytes, in either case', () => {
    expect(verifier.sign(body)).toBe(good);
    expect(verifier.verify(body, good)).toBe(true);
    expect(verifier.verify(body, good.toUpperCase())).toBe(true);
  });

  it('refuses a missing, malformed, truncated, repeated or foreign signature', () => {
    expect(verifier.verify(body, undefined)).toBe(false);
    expect(verifier.verify(body, '')).toBe(false);
    expect(verifier.verify(body, good.slice(0, 39))).toBe(false);
    expect(verifier.verify(body, `${good}00`)).toBe(false);
    expect(verifier.verify(body, [good, good])).toBe(false);
    expect(verifier.verify(body, createHmac('sha1', 'other').update(body).digest('hex'))).toBe(false);
    expect(verifier.verify(body, createHmac('sha256', 's3cret').update(body).digest('hex'))).toBe(false);
  });

  it('refuses the right signature on different bytes (one byte changed)', () => {
    const changed = Buffer.from(body);
    changed[changed.length - 3] = 'x'.charCodeAt(0);
    expect(verifier.verify(changed, good)).toBe(false);
  });

  it('cannot be built without a secret', () => {
    expect(() => new WebexWebhookVerifier('')).toThrow(/secret/);
  });
});
