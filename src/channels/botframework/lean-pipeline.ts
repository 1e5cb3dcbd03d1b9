/**
 * The HTTP pipeline of the lean connector calls (./lean-conversations.ts), built once per cached
 * ConnectorClient from the same @azure/core-rest-pipeline policies, settings and order the SDK's
 * client pipeline has (botbuilder-stdlib's ServiceClientContext over @azure/core-client), less what
 * these calls never use. Through `client.sendRequest` a reply cost ~80 KB of heap and ~450 µs of CPU
 * (a WebResource round trip through @azure/core-http-compat for the one request policy factory, the
 * credentials applied twice, a second PipelineRequest, tracing and logging policies, the answer
 * parsed twice, the compat response); through this ~49 KB and ~340 µs (issue 19).
 *
 * Kept, as the SDK has them: proxy (the client's proxySettings, else HTTPS_PROXY/HTTP_PROXY/NO_PROXY),
 * user agent (the client's prefix before core-rest-pipeline's), x-ms-client-request-id, the
 * credentials' signature once per call before the retries, defaultRetryPolicy's defaults (408, 429
 * and 503 with Retry-After, 5xx, network errors; 3 retries), redirects, one process-wide HTTP client
 * with keep-alive (core-client shares its default one too).
 * Dropped: decompressResponsePolicy (asks for gzip; the answers are an id or a member, a few hundred
 * bytes), tracing (no instrumenter is registered: its spans are no-ops), logPolicy (@azure/logger's
 * request and answer lines, off unless AZURE_LOG_LEVEL turns them on), form data and multipart (JSON
 * bodies only), wrapAbortSignalLike (no abort signal), core-client's (de)serialization (without an
 * operation spec it only parses the answer into a parsedBody nobody reads: these calls parse it
 * themselves) and ConnectorFactoryImpl's request policy factory (it asks for any type when a request
 * names none; these calls send `accept: application/json`).
 *
 * A client this cannot reproduce exactly goes on through its own `sendRequest`: credentials other
 * than the SDK's AppCredentials signing (a subclass that signs its own way, a custom object), a
 * custom httpClient, or more request policy factories than the one ConnectorFactoryImpl adds.
 */
import {
  createDefaultHttpClient,
  createEmptyPipeline,
  defaultRetryPolicy,
  proxyPolicy,
  redirectPolicy,
  setClientRequestIdPolicy,
  userAgentPolicy,
  type HttpClient,
  type PipelinePolicy,
  type PipelineRequest,
  type ProxySettings,
} from '@azure/core-rest-pipeline';
import { AppCredentials, type ConnectorClient } from 'botframework-connector';

/** What the lean calls read of an answer (a PipelineResponse, or the SDK's compat response). */
export interface LeanResponse {
  status: number;
  bodyAsText?: string | null;
}

export type LeanSend = (request: PipelineRequest) => Promise<LeanResponse>;

/** The options the SDK kept from building the client (ServiceClientContext's private `options`). */
interface SdkClientOptions {
  userAgent?: string | ((defaultUserAgent: string) => string);
  proxySettings?: ProxySettings;
  httpClient?: unknown;
  requestPolicyFactories?: unknown;
}

let sharedHttpClient: HttpClient | undefined;

/** Signs with AppCredentials' own `signRequest` (the cached AAD token as a bearer, none for the empty credentials), once per call. */
function signingPolicy(credentials: AppCredentials): PipelinePolicy {
  return {
    name: 'leanConnectorSignRequest',
    async sendRequest(request, next) {
      // The WebResource part it uses: its headers (TokenCredentials sets Authorization on them).
      const headers = request.headers;
      const webResource = {
        headers: {
          set: (name: string, value: unknown) => headers.set(name, String(value)),
          get: (name: string) => headers.get(name),
          contains: (name: string) => headers.has(name),
          remove: (name: string) => headers.delete(name),
        },
      };
      await credentials.signRequest(webResource as unknown as Parameters<AppCredentials['signRequest']>[0]);
      return next(request);
    },
  };
}

/** The SDK's credentials (MicrosoftAppCredentials and the other AppCredentials), signing as AppCredentials does. */
function isAppCredentials(credentials: unknown): credentials is AppCredentials {
  return credentials instanceof AppCredentials && credentials.signRequest === AppCredentials.prototype.signRequest;
}

/** None, or the one ConnectorFactoryImpl puts on every client it makes (moot here, see above). */
function onlyTheFactorysPolicy(factories: unknown): boolean {
  return factories === undefined || (Array.isArray(factories) && factories.length <= 1);
}

/** How the lean calls send on `client`: a pipeline of its own when the SDK's can be reproduced, else the client's. */
export function leanSendFor(client: ConnectorClient): LeanSend {
  const options = (client as unknown as { options?: SdkClientOptions }).options ?? {};
  const credentials: unknown = client.credentials;
  if (!isAppCredentials(credentials) || options.httpClient !== undefined || !onlyTheFactorysPolicy(options.requestPolicyFactories)) {
    return (request) => client.sendRequest(request);
  }
  // As ServiceClientContext derives it for core-client.
  const userAgentPrefix = (typeof options.userAgent === 'function' ? options.userAgent('') : options.userAgent) || '';
  const pipeline = createEmptyPipeline();
  pipeline.addPolicy(proxyPolicy(options.proxySettings));
  pipeline.addPolicy(userAgentPolicy({ userAgentPrefix }));
  pipeline.addPolicy(setClientRequestIdPolicy());
  pipeline.addPolicy(signingPolicy(credentials));
  pipeline.addPolicy(defaultRetryPolicy(), { phase: 'Retry' });
  pipeline.addPolicy(redirectPolicy(), { afterPhase: 'Retry' });
  const httpClient = (sharedHttpClient ??= createDefaultHttpClient());
  return (request) => pipeline.sendRequest(httpClient, request);
}
