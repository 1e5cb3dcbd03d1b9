/**
 * The Smart Bonding access token: OAuth2 client credentials against Cisco's token endpoint.
 * Source: developer.cisco.com/docs/smart-bonding-partner-api/authentication ("the Smart Bonding API
 * uses the OAuth2 Client Credentials flow", `grant_type`, `client_id`, `client_secret`, the answer
 * `{ access_token, token_type: "Bearer", expires_in: 3599 }`, "Tokens are valid for one hour").
 * That page allows the credentials as query parameters or in the body; we send them in the form
 * body (Option 2, `application/x-www-form-urlencoded`), so the secret never sits in a URL that a
 * proxy might log. The token is cached and renewed a while before it expires; `renew()` after a
 * 401 fetches a new one. Concurrent callers share one request.
 */
import { z } from 'zod';
import { requestJson } from './request-json';
import { DeliveryError } from './types';

export interface SmartBondingTokenOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs?: number;
  clock?: () => Date;
}

const tokenAnswer = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive().optional(),
});

/** Renewed this long before it would expire, so a call never leaves with a token about to lapse. */
export const RENEW_BEFORE_MS = 5 * 60_000;
/** The documented lifetime, for an answer that does not say `expires_in`. */
const DEFAULT_LIFETIME_S = 3600;

const CREDENTIALS_HINT = 'check SMARTBONDING_CLIENT_ID, SMARTBONDING_CLIENT_SECRET and SMARTBONDING_TOKEN_URL, then `npm run cases -- check`';

export class SmartBondingToken {
  private cached?: { token: string; renewAt: number };
  private inFlight?: Promise<string>;
  private readonly clock: () => Date;

  constructor(private readonly opts: SmartBondingTokenOptions) {
    this.clock = opts.clock ?? (() => new Date());
  }

  /** A token that is good for a while yet: the cached one, or a new one. */
  async get(): Promise<string> {
    if (this.cached && this.clock().getTime() < this.cached.renewAt) return this.cached.token;
    return this.fetchShared();
  }

  /** The API refused the token (401): forget it and fetch a new one. */
  async renew(): Promise<string> {
    this.cached = undefined;
    return this.fetchShared();
  }

  private fetchShared(): Promise<string> {
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Any refusal by the token endpoint (400 invalid_client, 401) is the configuration's, never the
   * case's: it is retried (the case stays pending) while an operator fixes the credentials.
   */
  private async fetch(): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.opts.clientId, client_secret: this.opts.clientSecret });
    let answer: unknown;
    try {
      answer = await requestJson({
        system: 'The Smart Bonding token endpoint',
        url: this.opts.tokenUrl,
        init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: body.toString() },
        timeoutMs: this.opts.timeoutMs ?? 15_000,
        onRedirect: 'set SMARTBONDING_TOKEN_URL to the token endpoint itself',
        body: 'strict',
      });
    } catch (err) {
      if (err instanceof DeliveryError && err.status !== undefined && err.status < 500 && err.status !== 408 && err.status !== 429) {
        // No status on it: a refusal of the token endpoint must not read as the API refusing a token.
        throw new DeliveryError(`${err.message}; ${CREDENTIALS_HINT}`, false, { cause: err });
      }
      throw err;
    }
    const parsed = tokenAnswer.safeParse(answer);
    if (!parsed.success) throw new DeliveryError('The Smart Bonding token endpoint answered without an access_token', false);
    const lifetimeMs = (parsed.data.expires_in ?? DEFAULT_LIFETIME_S) * 1000;
    // A short-lived token is renewed at half its life rather than never being cached.
    const renewIn = lifetimeMs > 2 * RENEW_BEFORE_MS ? lifetimeMs - RENEW_BEFORE_MS : lifetimeMs / 2;
    this.cached = { token: parsed.data.access_token, renewAt: this.clock().getTime() + renewIn };
    return parsed.data.access_token;
  }
}
