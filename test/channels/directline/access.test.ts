import { describe, expect, it } from 'vitest';
import { bearerToken, isLocalRequest, isLoopbackAddress, matchesHash, sha256, SiteAccess } from '../../../src/channels/directline/access';

describe('web chat access rules', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.5', false],
    ['::ffff:192.168.1.20', false],
    ['2001:db8::1', false],
    ['127.0.0.1.example.com', false],
    [undefined, false],
  ])('treats %s as loopback: %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });

  it('does not count a request that came through a proxy or tunnel on this machine as local', () => {
    expect(isLocalRequest('127.0.0.1', {})).toBe(true);
    expect(isLocalRequest('127.0.0.1', { 'x-forwarded-for': '198.51.100.4' })).toBe(false);
    expect(isLocalRequest('::1', { forwarded: 'for=198.51.100.4' })).toBe(false);
    expect(isLocalRequest('::1', { 'x-real-ip': '198.51.100.4' })).toBe(false);
  });

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
    expect(open.allows('127.0.0.1', {}, undefined)).toBe(true);
    expect(open.allows('203.0.113.9', {}, 'anything-at-all-1234')).toBe(false);
    const guarded = new SiteAccess('site-token-0123456789');
    expect(guarded.allows('203.0.113.9', {}, 'site-token-0123456789')).toBe(true);
    expect(guarded.allows('203.0.113.9', {}, 'site-token-012345678')).toBe(false);
    expect(guarded.allows('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }, undefined)).toBe(false);
    expect(guarded.allows('127.0.0.1', {}, undefined)).toBe(true);
  });
});
