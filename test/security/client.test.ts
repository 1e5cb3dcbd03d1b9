import { describe, expect, it } from 'vitest';
import { clientKey, isLoopbackAddress, isLoopbackHostName, RequestOrigin } from '../../src/security/client';

const req = (remoteAddress: string | undefined, headers: Record<string, string> = {}, encrypted = false) => ({ socket: { remoteAddress, encrypted }, headers });
const origin = new RequestOrigin({ trustLoopback: true, trustedProxies: ['10.0.0.5', '10.0.0.6'] });

describe('loopback addresses and names', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.5', false],
    ['::ffff:192.168.1.20', false],
    ['2001:db8::1', false],
    ['127.0.0.1.example.com', false],
    [undefined, false],
  ])('treats %s as loopback: %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });

  it('knows localhost names and refuses look-alikes', () => {
    expect(isLoopbackHostName('localhost')).toBe(true);
    expect(isLoopbackHostName('app.localhost')).toBe(true);
    expect(isLoopbackHostName('::1')).toBe(true);
    expect(isLoopbackHostName('0.0.0.0')).toBe(false);
    expect(isLoopbackHostName('localhost.evil.example')).toBe(false);
  });
});

describe('RequestOrigin', () => {
  it('counts as local only a direct loopback peer with no forwarding header of any kind', () => {
    expect(origin.isLocal(req('127.0.0.1'))).toBe(true);
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-proto', 'cf-connecting-ip', 'true-client-ip']) {
      expect(origin.isLocal(req('127.0.0.1', { [header]: '198.51.100.4' })), header).toBe(false);
    }
    expect(origin.isLocal(req('203.0.113.9'))).toBe(false);
  });

  it('counts nobody as local when loopback trust is turned off', () => {
    const off = new RequestOrigin({ trustLoopback: false, trustedProxies: [] });
    expect(off.isLocal(req('127.0.0.1'))).toBe(false);
    expect(off.isLocal(req('::1'))).toBe(false);
  });

  it('is the peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(origin.clientAddress(req('203.0.113.9', { 'x-forwarded-for': '198.51.100.1' }))).toBe('203.0.113.9');
  });

  it('is the right-most untrusted X-Forwarded-For address behind trusted proxies, ignoring what a client prepends', () => {
    expect(origin.clientAddress(req('10.0.0.5', { 'x-forwarded-for': '1.2.3.4, 198.51.100.7, 10.0.0.6' }))).toBe('198.51.100.7');
    expect(origin.clientAddress(req('10.0.0.5', { 'x-forwarded-for': 'spoofed, 192.0.2.1, 198.51.100.7' }))).toBe('198.51.100.7');
    expect(origin.clientAddress(req('10.0.0.5'))).toBe('10.0.0.5');
    expect(origin.clientAddress(req('::ffff:10.0.0.5', { 'x-forwarded-for': '198.51.100.7' }))).toBe('198.51.100.7');
    expect(origin.clientAddress(req('::ffff:203.0.113.9'))).toBe('203.0.113.9');
  });

  it('keys IPv6 clients by their /64 and IPv4 clients by their address', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:DB8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientKey('[2001:db8::5]')).toBe('2001:db8:0:0::/64');
    expect(clientKey('203.0.113.9')).toBe('203.0.113.9');
    expect(clientKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
  });

  it('believes X-Forwarded-Proto only from a trusted proxy', () => {
    expect(origin.isHttps(req('203.0.113.9', { 'x-forwarded-proto': 'https' }))).toBe(false);
    expect(origin.isHttps(req('10.0.0.5', { 'x-forwarded-proto': 'https' }))).toBe(true);
    expect(origin.isHttps(req('10.0.0.5', { 'x-forwarded-proto': 'http' }))).toBe(false);
    expect(origin.isHttps(req('203.0.113.9', {}, true))).toBe(true);
  });
});
