/**
 * The only reader of process.env. One zod schema; a bad value stops start-up with a readable list.
 * Every variable is documented in .env.example.
 */
import { z } from 'zod';
import { isLoopbackHostName } from './security/client';
import { OpeningHoursError, parseOpeningHours } from './handoff/hours';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const optionalUrl = optionalString.pipe(z.url().optional());

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3978),
    /** Loopback by default: a fresh `npm start` is reachable from this machine only (README "Security"). */
    HOST: z.string().trim().min(1).default('127.0.0.1'),
    /**
     * The bot's public base URL (e.g. https://bot.example.com): its host is allowed in the Host header,
     * and links the bot builds (attachments in a case) start with it.
     */
    PUBLIC_URL: optionalUrl.transform((u) => u?.replace(/\/+$/, '')),
    /** More host names browsers may use to reach the bot (comma-separated); localhost and IP literals always may. */
    ALLOWED_HOSTS: z
      .string()
      .optional()
      .transform((v) => (v ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^[a-z0-9.-]{1,253}$/, 'must be host names, e.g. bot.example.com'))),
    /**
     * A direct loopback peer (no forwarding headers) counts as "this machine": no web chat token, no
     * rate limits, /metrics without a token. Set false when a proxy or tunnel on this machine forwards
     * traffic from elsewhere without adding forwarding headers.
     */
    TRUST_LOOPBACK: bool.default(true),
    /**
     * Without MicrosoftAppId, /api/messages answers only this machine and follows only loopback
     * serviceUrls, and a non-loopback HOST refuses to start unless another authenticated channel is set
     * up. true lifts all of that (an Emulator on another machine): anyone who reaches the port can then
     * make the bot call any URL. Never in production.
     */
    ALLOW_UNAUTHENTICATED_NETWORK: bool.default(false),
    /** A request whose body has not fully arrived after this long is answered 408 and closed. */
    HTTP_REQUEST_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(60),
    /** A connection that has not sent its complete headers after this long is closed. */
    HTTP_HEADERS_TIMEOUT_SECONDS: z.coerce.number().positive().max(600).default(15),
    /** Open connections the server accepts at once; more are closed at once. */
    HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1024),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Unset: SQLite file ./data/bot.sqlite. `sqlite:path` or `postgres://…` otherwise. */
    DATABASE_URL: optionalString,
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
    /** PostgreSQL schema for the bot's tables (created if missing); lets several bots share one database. */
    DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _').default('public'),
    /** SQLite's page cache per connection, MiB (unset: SQLite's own as better-sqlite3 builds it, 16 MB); a large store's hot pages (README "Performance"). */
    SQLITE_CACHE_MB: z.coerce.number().int().min(1).max(4096).optional(),
    /** Seconds a shutdown waits for in-flight turns before it forces the exit. */
    SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().positive().default(10),
    MAX_BODY_BYTES: z.coerce.number().int().positive().default(256 * 1024),

    // Bot Framework (Teams, Emulator). No app id: local, unauthenticated use.
    MicrosoftAppId: optionalString,
    MicrosoftAppPassword: optionalString,
    MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
    MicrosoftAppTenantId: optionalString,
    /**
     * Replies are kept with their turn until the connector took them (issue 15). A turn's instance
     * holds its replies this long; if it dies first, a worker on any instance sends them after it.
     */
    REPLY_DELIVERY_LEASE_SECONDS: z.coerce.number().positive().default(60),
    /** How often the worker looks for replies left to send. */
    REPLY_DELIVERY_POLL_SECONDS: z.coerce.number().positive().default(5),
    /** First retry delay for replies the connector did not take; doubles per attempt (with jitter) up to 10 minutes. */
    REPLY_DELIVERY_RETRY_SECONDS: z.coerce.number().positive().default(10),
    /** Teams app package (`npm run teams:package`): who publishes it and where people read about it. */
    TEAMS_DEVELOPER_NAME: z.string().trim().min(1).max(32).default('Partner Support'),
    TEAMS_DEVELOPER_URL: z.url({ protocol: /^https$/ }).default('https://www.cisco.com/go/cs'),
    TEAMS_PRIVACY_URL: optionalString.pipe(z.url({ protocol: /^https$/ }).optional()),
    TEAMS_TERMS_URL: optionalString.pipe(z.url({ protocol: /^https$/ }).optional()),

    // Cisco Webex (issue 4). No token: the Webex channel is off.
    /** The bot's access token from developer.webex.com (My Webex Apps > the bot). */
    WEBEX_BOT_TOKEN: optionalString,
    /** The secret both webhooks are registered with; every notification's X-Spark-Signature is checked against it. */
    WEBEX_WEBHOOK_SECRET: optionalString,
    WEBEX_API_URL: z
      .url()
      .default('https://webexapis.com/v1')
      .transform((u) => u.replace(/\/+$/, '')),
    /** Public base URL Webex reaches this server at; `npm run webex:webhooks` registers `<it>/api/webex`. */
    WEBEX_PUBLIC_URL: optionalUrl,
    /** Local experiments only: accept unsigned notifications when no WEBEX_WEBHOOK_SECRET is set. */
    WEBEX_INSECURE_DEV: bool.default(false),
    /** How long an instance's claim on a received notification holds; after it, another instance (PostgreSQL) resumes it. */
    WEBEX_INBOX_LEASE_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
    /** How often unfinished notifications (of an instance that died) are looked for. */
    WEBEX_INBOX_POLL_SECONDS: z.coerce.number().int().min(1).max(3_600).default(10),
    /** A notification whose `created` is older than this (a replay) is refused; it must be shorter than the inbox's memory. */
    WEBEX_MAX_NOTIFICATION_AGE_MINUTES: z.coerce.number().positive().max(7 * 24 * 60 - 60).default(60),

    // Operators and analytics (issue 7).
    /** Bearer token GET /metrics requires on the main server. */
    METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    /** host:port of a separate metrics listener; when set, /metrics is not served on the main server. */
    METRICS_BIND: optionalString.pipe(
      z
        .string()
        .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9464')
        .optional(),
    ),
    /** A conversation idle this long without an outcome counts as abandoned in `npm run report`. */
    FUNNEL_IDLE_MINUTES: z.coerce.number().positive().default(30),
    /**
     * Comma-separated agents allowed to run agent triage and read any case's status: Teams AAD object
     * ids (trusted only from JWT-validated Teams activities) and Webex emails (trusted only from signed
     * notifications). Web chat never makes anyone an agent.
     */
    AGENT_IDS: z
      .string()
      .optional()
      .transform((v) => new Set((v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) as ReadonlySet<string>),

    // Web Chat page and local Direct Line endpoint (issue 6).
    /** Serve the page at `/` and the Direct Line endpoint at `/directline`. */
    WEBCHAT_ENABLED: bool.default(true),
    /** Access token for browsers that are not on this machine (`/?token=…`); without it only loopback clients get in. */
    WEBCHAT_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    /** How long a web chat conversation token is valid; the page refreshes it before then, and a refresh gives a new token. */
    DIRECTLINE_TOKEN_TTL_SECONDS: z.coerce.number().int().min(1200, 'must be at least 1200: Web Chat refreshes its token every 15 minutes').max(86_400).default(3600),
    /** Where files attached in the web chat are kept. */
    WEBCHAT_UPLOAD_DIR: z.string().trim().min(1).default('./data/uploads'),
    /** Larger uploads are answered 413. */
    WEBCHAT_MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
    /** Files one web chat conversation may upload per WEBCHAT_UPLOAD_WINDOW_HOURS; more are answered 429. */
    WEBCHAT_MAX_UPLOADS_PER_CONVERSATION: z.coerce.number().int().min(1).default(10),
    /** Bytes one web chat conversation may upload per WEBCHAT_UPLOAD_WINDOW_HOURS; more are answered 429. */
    WEBCHAT_MAX_UPLOAD_BYTES_PER_CONVERSATION: z.coerce.number().int().positive().default(20 * 1024 * 1024),
    WEBCHAT_UPLOAD_WINDOW_HOURS: z.coerce.number().positive().default(24),

    // Abuse limits and retention of personal data (issue 8).
    /** POSTs to /directline/* (messages, uploads, conversations) per client IP per minute; 0 turns the limit off. */
    DIRECTLINE_POSTS_PER_MINUTE: z.coerce.number().min(0).default(60),
    /** New or resumed web chat conversations (POST /directline/conversations) per client IP per hour; 0: off. */
    DIRECTLINE_CONVERSATIONS_PER_HOUR: z.coerce.number().min(0).default(30),
    /** Comma-separated addresses of reverse proxies in front of the bot; their X-Forwarded-For names the client and X-Forwarded-Proto the scheme. */
    TRUSTED_PROXIES: z
      .string()
      .optional()
      .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.union([z.ipv4(), z.ipv6()], { error: 'must be IP addresses' }))),
    /** Conversations idle longer than this are deleted with their transcript, web chat activities and uploads. Cases and funnel events stay. */
    RETENTION_DAYS: z.coerce.number().positive().default(90),
    /** How often the retention job runs. */
    RETENTION_INTERVAL_MINUTES: z.coerce.number().positive().default(60),

    // Follow-ups and satisfaction (issue 23).
    /** "Check back with me tomorrow" at the endings that promise an email (not in the terminal chat). */
    FOLLOWUPS_ENABLED: bool.default(true),
    /** Hours until the bot checks back; fractions allowed (0.5 = half an hour). */
    FOLLOWUP_DELAY_HOURS: z.coerce.number().positive().max(24 * 30).default(24),
    /** How often due follow-ups are looked for, and how long one instance holds one it is asking. */
    FOLLOWUP_POLL_SECONDS: z.coerce.number().positive().default(60),
    FOLLOWUP_LEASE_SECONDS: z.coerce.number().positive().default(120),

    // Support cases (issue 5): where a confirmed case is delivered.
    /** `local`: kept in the store, the person gets the manual Support Case Manager path; or a delivery backend. */
    CASE_BACKEND: z.enum(['local', 'webhook', 'servicenow', 'email', 'smartbonding']).default('local'),
    CASE_WEBHOOK_URL: optionalUrl,
    /** HMAC-SHA256 key for the X-Signature-256 header over the request body. */
    CASE_WEBHOOK_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    /** e.g. https://example.service-now.com */
    SERVICENOW_INSTANCE_URL: optionalUrl,
    SERVICENOW_TABLE: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a table name such as incident or sn_customerservice_case').default('incident'),
    SERVICENOW_CATEGORY: z.string().trim().min(1).max(80).default('request'),
    SERVICENOW_CONTACT_TYPE: z.string().trim().min(1).max(80).default('virtual_agent'),
    SERVICENOW_USERNAME: optionalString,
    SERVICENOW_PASSWORD: optionalString,
    /** How often the records of delivered, open cases are read back for status and customer comments. */
    SERVICENOW_POLL_SECONDS: z.coerce.number().positive().default(300),
    /** Cisco Smart Bonding Partner API (issue 21); staging: https://stage.sbnprd.xylem.cisco.com/sb-partner-oauth-proxy-api/rest/v1 */
    SMARTBONDING_API_URL: z.url().default('https://sb.xylem.cisco.com/sb-partner-oauth-proxy-api/rest/v1'),
    /** OAuth2 client credentials token endpoint; staging: https://int-id.cisco.com/oauth2/default/v1/token */
    SMARTBONDING_TOKEN_URL: z.url().default('https://id.cisco.com/oauth2/default/v1/token'),
    SMARTBONDING_CLIENT_ID: optionalString,
    SMARTBONDING_CLIENT_SECRET: optionalString,
    /** How often updates from Cisco are pulled (GET pull/call). */
    SMARTBONDING_POLL_SECONDS: z.coerce.number().positive().default(60),
    /** nodemailer connection URL, e.g. smtps://user:pass@smtp.example.com:465 or smtp://host:587 */
    CASE_SMTP_URL: optionalString.pipe(z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional()),
    CASE_EMAIL_TO: optionalString.pipe(z.email().optional()),
    CASE_EMAIL_FROM: optionalString.pipe(z.email().optional()),
    // Talk to a person (issue 22): live hand-offs to support engineers in a Webex space or a Teams channel.
    /** The Webex space where engineers take hand-offs (the bot must be a member); unset: no Webex expert space. */
    HANDOFF_WEBEX_ROOM_ID: optionalString,
    /** When engineers take hand-offs, e.g. `Mon-Fri 09:00-18:00 Europe/Kyiv`; unset: always. */
    HANDOFF_HOURS: optionalString.refine((v) => v === undefined || tryHours(v) === undefined, { error: (i) => tryHours(String(i.input)) ?? 'is not valid' }),
    /** Nobody took a request within this long: the person is told and offered a case. */
    HANDOFF_WAIT_MINUTES: z.coerce.number().positive().max(24 * 60).default(10),
    /** How often each instance looks for hand-off work (cards to post, messages to relay, waits that ran out). */
    HANDOFF_POLL_SECONDS: z.coerce.number().positive().default(2),
    /** A claimed piece of hand-off work whose instance died is taken over after this long. */
    HANDOFF_LEASE_SECONDS: z.coerce.number().positive().default(60),
    /** Unsuccessful attempts after which each further one is logged as an error (overdue); never fails a case. */
    CASE_DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
    /** First retry delay; doubles per attempt (with jitter) up to CASE_DELIVERY_MAX_DELAY_SECONDS. */
    CASE_DELIVERY_RETRY_SECONDS: z.coerce.number().positive().default(10),
    CASE_DELIVERY_MAX_DELAY_SECONDS: z.coerce.number().positive().default(3600),
    /** How often the delivery worker looks for due cases. */
    CASE_DELIVERY_POLL_SECONDS: z.coerce.number().positive().default(5),
    /** A claimed case whose instance died is claimed again after this long. */
    CASE_DELIVERY_LEASE_SECONDS: z.coerce.number().positive().default(120),
  })
  .superRefine((c, ctx) => {
    if (!isLoopbackHostName(c.HOST) && !c.MicrosoftAppId && !c.ALLOW_UNAUTHENTICATED_NETWORK && !authenticatedChannelOnNetwork(c)) {
      ctx.addIssue({
        code: 'custom',
        path: ['HOST'],
        message: `is ${c.HOST}, reachable from other machines, but nothing there is authenticated: set MicrosoftAppId (Teams), WEBEX_BOT_TOKEN with WEBEX_WEBHOOK_SECRET, or WEBCHAT_TOKEN; or keep HOST=127.0.0.1. ALLOW_UNAUTHENTICATED_NETWORK=true opens the unauthenticated bot to the network (never in production)`,
      });
    }
    if (c.WEBEX_BOT_TOKEN && !c.WEBEX_WEBHOOK_SECRET && !c.WEBEX_INSECURE_DEV) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBEX_WEBHOOK_SECRET'],
        message:
          'is required when WEBEX_BOT_TOKEN is set: without it anyone could post fake Webex notifications. Pick a random secret (npm run webex:webhooks registers it), or set WEBEX_INSECURE_DEV=true for a local experiment only',
      });
    }
    const requiredFor: Record<string, (keyof typeof c)[]> = {
      webhook: ['CASE_WEBHOOK_URL', 'CASE_WEBHOOK_SECRET'],
      servicenow: ['SERVICENOW_INSTANCE_URL', 'SERVICENOW_USERNAME', 'SERVICENOW_PASSWORD'],
      email: ['CASE_SMTP_URL', 'CASE_EMAIL_TO', 'CASE_EMAIL_FROM'],
      smartbonding: ['SMARTBONDING_CLIENT_ID', 'SMARTBONDING_CLIENT_SECRET'],
    };
    for (const name of requiredFor[c.CASE_BACKEND] ?? []) {
      if (!c[name]) ctx.addIssue({ code: 'custom', path: [name], message: `is required when CASE_BACKEND=${c.CASE_BACKEND}` });
    }
    if (c.WEBCHAT_MAX_UPLOAD_BYTES_PER_CONVERSATION < c.WEBCHAT_MAX_UPLOAD_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['WEBCHAT_MAX_UPLOAD_BYTES_PER_CONVERSATION'], message: 'must be at least WEBCHAT_MAX_UPLOAD_BYTES' });
    }
    if (c.MicrosoftAppId && c.MicrosoftAppType !== 'UserAssignedMSI' && !c.MicrosoftAppPassword) {
      ctx.addIssue({ code: 'custom', path: ['MicrosoftAppPassword'], message: 'is required when MicrosoftAppId is set' });
    }
    if (c.MicrosoftAppType === 'SingleTenant' && c.MicrosoftAppId && !c.MicrosoftAppTenantId) {
      ctx.addIssue({ code: 'custom', path: ['MicrosoftAppTenantId'], message: 'is required for a SingleTenant app' });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** Why HANDOFF_HOURS cannot be read, or undefined when it can. */
function tryHours(spec: string): string | undefined {
  try {
    parseOpeningHours(spec);
    return undefined;
  } catch (err) {
    return err instanceof OpeningHoursError ? err.message : 'is not valid';
  }
}

/** Something on a network listener that authenticates its callers itself (Webex signatures, the web chat's site token). */
export function authenticatedChannelOnNetwork(c: Pick<Config, 'WEBEX_BOT_TOKEN' | 'WEBEX_WEBHOOK_SECRET' | 'WEBCHAT_ENABLED' | 'WEBCHAT_TOKEN'>): boolean {
  return (!!c.WEBEX_BOT_TOKEN && !!c.WEBEX_WEBHOOK_SECRET) || (c.WEBCHAT_ENABLED && !!c.WEBCHAT_TOKEN);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`The configuration has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example for every variable.`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (process.env by default) into a Config, or throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  return result.data;
}

export { bool as envBoolean, optionalString as envOptionalString, optionalUrl as envOptionalUrl };
