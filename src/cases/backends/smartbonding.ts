/**
 * `smartbonding`: cases go to Cisco TAC through the Smart Bonding Partner API
 * (developer.cisco.com/docs/smart-bonding-partner-api: Authentication, Partner Self Onboarding, Use
 * Cases). A case is created with `POST {API}/push/call` (`CustCallID` = our reference; the
 * messages are in ./smartbonding-calls.ts), what the person adds in the chat follows as an update
 * on the same path, and what Cisco says back is read with `GET {API}/pull/call`, one message per
 * request, until nothing is waiting. Every request carries a bearer token (./smartbonding-token.ts):
 * a 401 renews it once; a second 401 is a configuration problem, retried while an operator fixes
 * it. The other answers follow ./types.ts (4xx permanent except 408 and 429, 5xx retried,
 * `Retry-After` honoured). Redirects are not followed: the token and the case go to the configured
 * address or nowhere. Smart Bonding keys a call by `CustCallID` (an update names the call by it
 * alone), so a create repeated after a lost answer names the same call.
 */
import { z } from 'zod';
import { safeJson } from '../../json';
import type { CasePayload } from '../schema';
import { requestJson, type JsonRequest } from './request-json';
import { additionMessage, createCallMessage, readPullAnswer } from './smartbonding-calls';
import { SmartBondingToken } from './smartbonding-token';
import { DeliveryError, type CaseAddition, type CaseBackend, type DeliveryResult, type PulledItem } from './types';

export interface SmartBondingOptions {
  apiUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs?: number;
  clock?: () => Date;
  /** Pull requests in one pass at most (each takes one message off Cisco's queue). */
  maxPullsPerPass?: number;
}

const SYSTEM = 'Smart Bonding';
const TOKEN_REFUSED = 'Smart Bonding refused a freshly issued token as well (HTTP 401): check that SMARTBONDING_CLIENT_ID belongs to this Smart Bonding connection and SMARTBONDING_API_URL to the same environment (staging or production)';

/** The push answer is not documented; a Cisco case number in it is taken, otherwise it comes with the first pull. */
const receipt = z.looseObject({
  SPCallID: z.union([z.string(), z.number()]).optional(),
  Calls: z.looseObject({ SPCallID: z.union([z.string(), z.number()]).optional() }).optional(),
});

export function createSmartBondingBackend(opts: SmartBondingOptions): CaseBackend {
  const api = opts.apiUrl.replace(/\/+$/, '');
  const token = new SmartBondingToken({ tokenUrl: opts.tokenUrl, clientId: opts.clientId, clientSecret: opts.clientSecret, timeoutMs: opts.timeoutMs, clock: opts.clock });

  const send = (path: string, init: RequestInit, bearer: string, body: JsonRequest['body']): Promise<unknown> =>
    requestJson({
      system: SYSTEM,
      url: `${api}${path}`,
      init: { ...init, headers: { accept: 'application/json', ...(init.headers as Record<string, string>), authorization: `Bearer ${bearer}` } },
      timeoutMs: opts.timeoutMs ?? 15_000,
      onRedirect: 'check SMARTBONDING_API_URL',
      body,
    });

  /** One API call; a 401 renews the token and tries once more. */
  const call = async (path: string, init: RequestInit, body: JsonRequest['body']): Promise<unknown> => {
    try {
      return await send(path, init, await token.get(), body);
    } catch (err) {
      if (!(err instanceof DeliveryError && err.status === 401)) throw err;
    }
    try {
      return await send(path, init, await token.renew(), body);
    } catch (err) {
      if (err instanceof DeliveryError && err.status === 401) throw new DeliveryError(TOKEN_REFUSED, false, { cause: err, status: 401 });
      throw err;
    }
  };
  const push = (message: Record<string, unknown>) =>
    call('/push/call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) }, 'lenient');

  return {
    name: 'smartbonding',
    async deliver(payload: CasePayload): Promise<DeliveryResult> {
      const answer = receipt.safeParse(await push(createCallMessage(payload)));
      const id = answer.success ? (answer.data.SPCallID ?? answer.data.Calls?.SPCallID) : undefined;
      return { externalId: id === undefined ? undefined : String(id) };
    },
    async addToCase(addition: CaseAddition): Promise<void> {
      await push(additionMessage(addition));
    },
    async *pullUpdates(): AsyncIterable<PulledItem> {
      for (let i = 0; i < (opts.maxPullsPerPass ?? 50); i++) {
        const raw = String(await call('/pull/call', { method: 'GET' }, 'text'));
        if (!raw.trim()) return;
        const json = safeJson(raw);
        if (json === undefined) {
          // Not JSON (a proxy's page, a cut answer): asking again now would likely get the same.
          yield { kind: 'skipped', reason: 'the pull answer is not JSON' };
          return;
        }
        const item = readPullAnswer(json);
        if (item === 'empty') return;
        yield item;
      }
    },
    /** A dry run: a token from the token endpoint (nothing is sent to Smart Bonding itself). */
    async check(): Promise<string[]> {
      try {
        await token.renew();
        return [];
      } catch (err) {
        return [err instanceof Error ? err.message : String(err)];
      }
    },
  };
}
