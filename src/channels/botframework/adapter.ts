/**
 * botbuilder's `CloudAdapter`, as both routes into the bot use it: `/api/messages` (Teams, the
 * Emulator) with the configured authentication, and the web chat bridge in-process without an app id.
 */
import { CloudAdapter, ConfigurationServiceClientCredentialFactory, type Activity, type TurnContext } from 'botbuilder';
import type { Config } from '../../config';
import { ReusingBotFrameworkAuthentication } from './reusing-auth';

export type BotFrameworkAuthConfig = Pick<Config, 'MicrosoftAppId' | 'MicrosoftAppPassword' | 'MicrosoftAppType' | 'MicrosoftAppTenantId'>;

export interface BotFrameworkAuthEndpoints {
  /** OpenID metadata whose `jwks_uri` lists the keys channel tokens are signed with. */
  openIdMetadataUrl?: string;
  /** The `iss` of channel tokens. */
  tokenIssuer?: string;
}

/**
 * CloudAdapter with `processActivity` callable from our route: `process(req, res)` would write its
 * own responses (error messages included, on the console), and we want 400/401/500 bodies that
 * match the rest of the server and go to the structured log.
 */
export class BotAdapter extends CloudAdapter {
  run(authorization: string, activity: Activity, logic: (context: TurnContext) => Promise<void>) {
    return this.processActivity(authorization, activity, logic);
  }
}

/** Bot Framework authentication from validated config. No app id: the adapter runs unauthenticated (local use). */
export function createAdapter(config: BotFrameworkAuthConfig, endpoints: BotFrameworkAuthEndpoints = {}): BotAdapter {
  const credentials = new ConfigurationServiceClientCredentialFactory({
    MicrosoftAppId: config.MicrosoftAppId ?? '',
    MicrosoftAppPassword: config.MicrosoftAppPassword ?? '',
    MicrosoftAppType: config.MicrosoftAppType,
    MicrosoftAppTenantId: config.MicrosoftAppTenantId ?? '',
  });
  const auth = new ReusingBotFrameworkAuthentication(
    {
      MicrosoftAppId: config.MicrosoftAppId ?? '',
      MicrosoftAppTenantId: config.MicrosoftAppTenantId ?? '',
      ...(endpoints.openIdMetadataUrl ? { ToBotFromChannelOpenIdMetadataUrl: endpoints.openIdMetadataUrl } : {}),
      ...(endpoints.tokenIssuer ? { ToBotFromChannelTokenIssuer: endpoints.tokenIssuer } : {}),
    },
    credentials,
  );
  return new BotAdapter(auth);
}

/** jsonwebtoken's errors, which botframework-connector lets through for a badly signed or malformed token. */
const TOKEN_ERRORS = new Set(['JsonWebTokenError', 'NotBeforeError', 'TokenExpiredError']);

/** The adapter refused the request's token (answered 401), as opposed to failing on its own. */
export function isAuthenticationFailure(err: unknown): boolean {
  const e = err as { statusCode?: unknown; name?: unknown } | null;
  return e?.statusCode === 401 || e?.statusCode === 403 || (typeof e?.name === 'string' && TOKEN_ERRORS.has(e.name));
}
