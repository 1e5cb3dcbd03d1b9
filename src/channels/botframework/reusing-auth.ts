/**
 * Bot Framework authentication that reuses its outbound clients. `CloudAdapter` asks for a new
 * `ConnectorClient` and a new `UserTokenClient` on every activity, and each builds an Azure HTTP
 * pipeline (policies, sanitizer, user agent): about a tenth of a turn's CPU (bench/PROFILING.md),
 * spent even when the replies come back in the response (`expectReplies`) and no client is used.
 * Both are stateless between requests (the credentials object caches and refreshes its own token),
 * so one per bot app id, service URL and audience serves every turn, as botbuilder's older
 * `BotFrameworkAdapter` did with its connector client cache. Its hot calls skip the model serializer
 * and the SDK's compat pipeline (./lean-conversations.ts, built once per client). The connector
 * factory wrapping the SDK's is one per app id too.
 */
import { ConfigurationBotFrameworkAuthentication, type Activity } from 'botbuilder';
import {
  AuthenticationConstants,
  ConnectorFactory,
  type AuthenticateRequestResult,
  type ClaimsIdentity,
  type ConnectorClient,
  type UserTokenClient,
} from 'botframework-connector';
import { LRUCache } from 'lru-cache';
import { useLeanConversations } from './lean-conversations';

/** Kept clients at most (service URLs are few: a handful of regional Teams endpoints, an emulator). */
const MAX_CLIENTS = 64;

/** Clients by key, least recently used forgotten first; a promise that failed is forgotten at once. */
class ClientCache<T> {
  private readonly entries = new LRUCache<string, Promise<T>>({ max: MAX_CLIENTS });

  get(key: string, create: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) return hit;
    const made = create();
    made.catch(() => {
      if (this.entries.peek(key) === made) this.entries.delete(key);
    });
    this.entries.set(key, made);
    return made;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The bot's app id as the SDK reads it from a request's claims (audience, else appid). */
function appIdOf(identity: ClaimsIdentity): string {
  return identity.getClaimValue(AuthenticationConstants.AudienceClaim) ?? identity.getClaimValue(AuthenticationConstants.AppIdClaim) ?? '';
}

class ReusingConnectorFactory extends ConnectorFactory {
  constructor(
    private readonly inner: ConnectorFactory,
    private readonly appId: string,
    private readonly cache: ClientCache<ConnectorClient>,
  ) {
    super();
  }

  create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    return this.cache.get(`${this.appId}\n${serviceUrl}\n${audience ?? ''}`, () => this.inner.create(serviceUrl, audience).then((client) => useLeanConversations(client, serviceUrl)));
  }
}

export class ReusingBotFrameworkAuthentication extends ConfigurationBotFrameworkAuthentication {
  private readonly connectors = new ClientCache<ConnectorClient>();
  private readonly userTokens = new ClientCache<UserTokenClient>();
  /**
   * Ours by app id. The SDK makes a new ConnectorFactoryImpl per request, but all it holds besides
   * the app id (from the claims, our key) is this authentication's settings; the audience comes with
   * each `create`. So the first one of an app id stands for all.
   */
  private readonly factories = new LRUCache<string, ReusingConnectorFactory>({ max: MAX_CLIENTS });

  /** Clients built so far (for tests). */
  get clientsBuilt(): { connectors: number; userTokens: number } {
    return { connectors: this.connectors.size, userTokens: this.userTokens.size };
  }

  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    const result = await super.authenticateRequest(activity, authHeader);
    const inner = result.connectorFactory;
    // The result is this request's own object, made for us by the SDK: changed in place.
    if (inner) result.connectorFactory = this.factoryFor(result.claimsIdentity, () => inner);
    return result;
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.factoryFor(claimsIdentity, () => super.createConnectorFactory(claimsIdentity));
  }

  private factoryFor(claimsIdentity: ClaimsIdentity, inner: () => ConnectorFactory): ReusingConnectorFactory {
    const appId = appIdOf(claimsIdentity);
    let factory = this.factories.get(appId);
    if (!factory) this.factories.set(appId, (factory = new ReusingConnectorFactory(inner(), appId, this.connectors)));
    return factory;
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.userTokens.get(appIdOf(claimsIdentity), () => super.createUserTokenClient(claimsIdentity));
  }
}
