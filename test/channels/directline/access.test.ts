import { describe, expect, it } from 'vitest';
import { bearerToken, matchesHash, sha256, SiteAccess } from '../../../src/channels/directline/access';
import { RequestOrigin } from '../../../src/security/client';

const req = (remoteAddress: string, headers: Record<string, string> = {}) => ({ socket: { remoteAddress }, headers }) as never;

describe('web chat access rules', () => {
  it('reads a Bearer token and compares secrets by their hash', () => {
    expect(bearerToken({ authorization: 'Bearer abc.def' })).toBe('abc.def');
    expect(bearerToken({ authorization: 'bearer   xyz ' })).toBe('xyz');
    expect(bearerToken({ authorization: 'Basic abc' })).toBeUndefined();
    expect(bearerToken({})).toBeUndefined();
    expect(matchesHash('s3cret', sha256('s3cret'))).toBe(true);
    expect(matchesHash('s3cret!', sha256('s3cret'))).toBe(false);
    expect(matchesHash(undefined, sha256('s3cret'))).toBe(false);
  });

  it('lets remote clients in only with the configured site token', () => {
    const open = new SiteAccess(undefined);
    expect(open.allows(req('127.0.0.1', {}), undefined)).toBe(true);
    expect(open.allows(req('203.0.113.9', {}), 'anything-at-all-1234')).toBe(false);
    const guarded = new SiteAccess('site-token-0123456789');
    expect(guarded.allows(req('203.0.113.9', {}), 'site-token-0123456789')).toBe(true);
    expect(guarded.allows(req('203.0.113.9', {}), 'site-token-012345678')).toBe(false);
    expect(guarded.allows(req('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }), undefined)).toBe(false);
    expect(guarded.allows(req('127.0.0.1', {}), undefined)).toBe(true);
    // TRUST_LOOPBACK=false (a proxy on this machine that adds no header): nobody is local.
    const behindProxy = new SiteAccess('site-token-0123456789', new RequestOrigin({ trustLoopback: false, trustedProxies: [] }));
    expect(behindProxy.allows(req('127.0.0.1', {}), undefined)).toBe(false);
    expect(behindProxy.allows(req('127.0.0.1', {}), 'site-token-0123456789')).toBe(true);
  });
});
