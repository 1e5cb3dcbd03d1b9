/**
 * Bot Framework authentication with an app id configured, against a local stand-in for Bot
 * Framework's token service: an OpenID metadata document and a JWKS on 127.0.0.1, and RS256 channel
 * tokens signed here the way the Bot Connector signs them (iss api.botframework.com, aud = app id,
 * serviceurl claim, key endorsed for the channel).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisioningContactFlow } from '../../../dialogs/provisioning-contact/machine';
import { createBotFrameworkChannel } from '../../../src/channels/botframework';
import { loadConfig } from '../../../src/config';
import { Engine } from '../../../src/engine/engine';
import { createTranslator } from '../../../src/i18n';
import { createLogger } from '../../../src/log';
import { buildServer, type App } from '../../../src/server';
import { createStore } from '../../../src/storage';
import type { Store } from '../../../src/storage/store';
import { Person, tempDir } from './harness';

const APP_ID = '3f1c1a52-5b8e-4a59-9f55-0a7a5d0c4b11';
const ISSUER = 'https://api.botframework.com';
const KID = 'test-key-1';
const logger = createLogger('silent');

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

let openId: Server;
let app: App;
let store: Store;
let url: string;
const dir = tempDir();

beforeAll(async () => {
  const jwk = signingKey.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  openId = createServer((req, res) => {
    const base = `http://127.0.0.1:${(openId.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/.well-known/openidconfiguration') {
      res.end(JSON.stringify({ issuer: ISSUER, jwks_uri: `${base}/v1/.well-known/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
    } else if (req.url === '/v1/.well-known/keys') {
      res.end(JSON.stringify({ keys: [{ kty: 'RSA', use: 'sig', kid: KID, n: jwk.n, e: jwk.e, endorsements: ['msteams', 'emulator'] }] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => openId.listen(0, '127.0.0.1', resolve));
  const metadata = `http://127.0.0.1:${(openId.address() as AddressInfo).port}/v1/.well-known/openidconfiguration`;

  store = createStore({ DATABASE_URL: `sqlite:${join(dir.path, 'bot.sqlite')}`, DATABASE_POOL_SIZE: 1 }, logger);
  await store.open();
  const translator = createTranslator();
  const engine = new Engine({ store, flow: provisioningContactFlow, translator, logger });
  const config = loadConfig({ MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'not-used-with-expect-replies' });
  app = buildServer({
    logger,
    maxBodyBytes: 262144,
    plugins: [createBotFrameworkChannel({ config, engine, translator, logger, authEndpoints: { openIdMetadataUrl: metadata, tokenIssuer: ISSUER } })],
  });
  ({ url } = await app.listen(0));
});

afterAll(async () => {
  await app.close(2_000);
  await store.close();
  openId.closeAllConnections();
  await new Promise<void>((resolve) => openId.close(() => resolve()));
  dir.remove();
});

const b64url = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

function channelToken(claims: Record<string, unknown>, key: KeyObject = signingKey.privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url({ alg: 'RS256', typ: 'JWT', kid: KID });
  const payload = b64url({ iss: ISSUER, aud: APP_ID, nbf: now - 60, iat: now - 60, exp: now + 3600, jti: randomUUID(), ...claims });
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(key);
  return `${header}.${payload}.${b64url(signature)}`;
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
