/**
 * Bot Framework authentication with an app id configured, against a local stand-in for Bot
 * Framework's token service: an OpenID metadata document and a JWKS on 127.0.0.1, and RS256 channel
 * tokens signed here the way the Bot Connector signs them (iss api.botframework.com, aud = app id,
 * serviceurl claim, key endorsed for the channel). The forgeries a token validator must refuse
 * (alg none, HS256 keyed with the public key, an unknown kid, a key endorsed for another channel)
 * are posted with a fake connector as serviceUrl, so a turn that ran would show there.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../../src/storage';
import type { Store } from '../../../src/storage/store';
import { silentLogger, useTempDir } from '../../support';
import { Person, startChannel, useFakeConnector } from './harness';

const APP_ID = '3f1c1a52-5b8e-4a59-9f55-0a7a5d0c4b11';
const ISSUER = 'https://api.botframework.com';
const KID = 'test-key-1';

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** A key in the JWKS that Bot Framework endorses for another channel only (as each channel has its own). */
const OTHER_CHANNEL_KID = 'test-key-webchat-only';
const otherChannelKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const connector = useFakeConnector();
const dir = useTempDir('pce-bf-', 'all');

let openId: Server;
let store: Store;
let channel: Awaited<ReturnType<typeof startChannel>>;
let url: string;

beforeAll(async () => {
  const jwk = signingKey.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const otherJwk = otherChannelKey.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  openId = createServer((req, res) => {
    const base = `http://127.0.0.1:${(openId.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/.well-known/openidconfiguration') {
      res.end(JSON.stringify({ issuer: ISSUER, jwks_uri: `${base}/v1/.well-known/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
    } else if (req.url === '/v1/.well-known/keys') {
      res.end(
        JSON.stringify({
          keys: [
            { kty: 'RSA', use: 'sig', kid: KID, n: jwk.n, e: jwk.e, endorsements: ['msteams', 'emulator'] },
            { kty: 'RSA', use: 'sig', kid: OTHER_CHANNEL_KID, n: otherJwk.n, e: otherJwk.e, endorsements: ['webchat'] },
          ],
        }),
      );
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => openId.listen(0, '127.0.0.1', resolve));
  const metadata = `http://127.0.0.1:${(openId.address() as AddressInfo).port}/v1/.well-known/openidconfiguration`;

  store = createStore({ DATABASE_URL: `sqlite:${dir.join('bot.sqlite')}`, DATABASE_POOL_SIZE: 1 }, silentLogger);
  await store.open();
  channel = await startChannel(
    store,
    { authEndpoints: { openIdMetadataUrl: metadata, tokenIssuer: ISSUER } },
    { MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'not-used-with-expect-replies' },
  );
  ({ url } = channel);
});

afterAll(async () => {
  await channel?.stop();
  openId.closeAllConnections();
  await new Promise<void>((resolve) => openId.close(() => resolve()));
});

const b64url = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

function channelToken(claims: Record<string, unknown>, key: KeyObject = signingKey.privateKey, kid = KID): string {
  const header = b64url({ alg: 'RS256', typ: 'JWT', kid });
  const payload = channelClaims(claims);
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(key);
  return `${header}.${payload}.${b64url(signature)}`;
}

/** Claims that are right in every way (issuer, audience, times, serviceurl): only the signature part is forged. */
function channelClaims(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  return b64url({ iss: ISSUER, aud: APP_ID, nbf: now - 60, iat: now - 60, exp: now + 3600, jti: randomUUID(), ...claims });
}

async function postWith(token: string | undefined, person: Person) {
  const activity = person.activity({ text: 'hello' });
  const res = await fetch(`${url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(activity),
  });
  return { res, activity };
}

describe('POST /api/messages with MicrosoftAppId set', () => {
  it('accepts an activity with a valid channel token and answers it', async () => {
    const person = new Person(url, { channelId: 'msteams', locale: 'en-US' });
    const serviceurl = String(person.activity({}).serviceUrl);
    const { res } = await postWith(channelToken({ serviceurl }), person);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { activities: unknown[] };
    expect(body.activities).toHaveLength(1);
    expect(await store.loadConversation(person.key)).toBeDefined();
  });

  it.each([
    { name: 'no token', token: () => undefined },
    { name: 'something that is not a JWT', token: () => 'not-a-jwt' },
    { name: 'a token signed with another key', token: (s: string) => channelToken({ serviceurl: s }, strangerKey.privateKey) },
    { name: 'a token for another bot', token: (s: string) => channelToken({ serviceurl: s, aud: '00000000-1111-2222-3333-444444444444' }) },
    { name: 'an expired token', token: (s: string) => channelToken({ serviceurl: s, nbf: 1_600_000_000, iat: 1_600_000_000, exp: 1_600_003_600 }) },
    { name: 'a token for another serviceUrl', token: () => channelToken({ serviceurl: 'https://smba.trafficmanager.net/emea/' }) },
    { name: 'a token from another issuer', token: (s: string) => channelToken({ serviceurl: s, iss: 'https://attacker.example' }) },
  ])('refuses $name with 401 and runs no turn', async ({ token }) => {
    const person = new Person(url, { channelId: 'msteams', locale: 'en-US' });
    const serviceurl = String(person.activity({}).serviceUrl);
    const { res } = await postWith(token(serviceurl), person);
    expect(res.status).toBe(401);
    expect(await store.loadConversation(person.key)).toBeUndefined();
  });
});

describe('POST /api/messages with a forged or misused channel token', () => {
  /** A Teams person whose replies would go to the fake connector: a turn that ran would show there. */
  const teamsPerson = () => new Person(url, { channelId: 'msteams', locale: 'en-US', connector });

  async function attempt(person: Person, token: string, fields: Record<string, unknown> = {}) {
    const activity = person.activity({ text: 'status of my case', ...fields });
    const res = await fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(activity),
    });
    return { status: res.status, body: await res.text() };
  }

  async function expectNoTurn(person: Person, key = person.key) {
    expect(connector.sentTo(person.conversationId)).toEqual([]);
    expect(connector.postAttempts.filter((p) => p.conversationId === person.conversationId)).toEqual([]);
    expect(connector.memberLookups.filter((l) => l.conversationId === person.conversationId)).toEqual([]);
    expect(await store.loadConversation(key)).toBeUndefined();
  }

  it.each([
    {
      name: 'an unsigned token (alg: none) naming a known key',
      token: (serviceurl: string) => `${b64url({ alg: 'none', typ: 'JWT', kid: KID })}.${channelClaims({ serviceurl })}.`,
    },
    {
      // The classic key confusion: the public key (anyone can fetch it) used as an HMAC secret.
      name: 'an HS256 token keyed with the public key of a known key',
      token: (serviceurl: string) => {
        const header = b64url({ alg: 'HS256', typ: 'JWT', kid: KID });
        const payload = channelClaims({ serviceurl });
        const pem = signingKey.publicKey.export({ type: 'spki', format: 'pem' });
        return `${header}.${payload}.${b64url(createHmac('sha256', pem).update(`${header}.${payload}`).digest())}`;
      },
    },
    {
      name: 'a token signed with the sender\'s own key under a kid the JWKS does not list',
      token: (serviceurl: string) => channelToken({ serviceurl }, strangerKey.privateKey, 'attacker-key-1'),
    },
    {
      name: 'a token signed with the right key under a kid the JWKS does not list',
      token: (serviceurl: string) => channelToken({ serviceurl }, signingKey.privateKey, 'no-such-kid'),
    },
    {
      name: 'a token signed with a key of the JWKS that is endorsed for another channel only',
      token: (serviceurl: string) => channelToken({ serviceurl }, otherChannelKey.privateKey, OTHER_CHANNEL_KID),
    },
  ])('refuses $name with 401: no reply, no member look-up, nothing stored', async ({ token }) => {
    const person = teamsPerson();
    const { status } = await attempt(person, token(connector.url));
    expect(status).toBe(401);
    await expectNoTurn(person);
  });

  it('accepts the key endorsed for another channel only on that channel (so the endorsement, not the key, is what refused msteams)', async () => {
    // Replies in the HTTP body (expectReplies): no connector, so no outbound token is needed.
    const person = new Person(url, { channelId: 'emulator', locale: 'en-US' });
    const serviceurl = String(person.activity({}).serviceUrl);
    const { status } = await attempt(person, channelToken({ serviceurl }, otherChannelKey.privateKey, OTHER_CHANNEL_KID), { channelId: 'webchat' });
    expect(status).toBe(200);
    expect(await store.loadConversation(`webchat:${person.conversationId}`)).toBeDefined();
  });

  // botframework-connector's EndorsementsValidator passes any key when the activity's channelId is
  // blank: the channel refuses a channelId that is not a plain name before authentication.
  it('refuses a key endorsed for another channel when the activity names no channel (blank channelId)', async () => {
    const person = teamsPerson();
    // Replies in the HTTP body: a turn that runs needs no outbound token (and reaches no real service).
    const fields = { channelId: ' ', deliveryMode: 'expectReplies' };
    const { status } = await attempt(person, channelToken({ serviceurl: connector.url }, otherChannelKey.privateKey, OTHER_CHANNEL_KID), fields);
    expect([400, 401]).toContain(status);
    await expectNoTurn(person, ` :${person.conversationId}`);
  });
});
