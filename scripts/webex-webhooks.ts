/**
 * `npm run webex:webhooks`: creates or updates the bot's three Webex webhooks so they deliver to
 * `$WEBEX_PUBLIC_URL/api/webex` signed with `$WEBEX_WEBHOOK_SECRET`, reactivates disabled ones, and
 * lists every webhook the bot has. Needs WEBEX_BOT_TOKEN, WEBEX_WEBHOOK_SECRET and WEBEX_PUBLIC_URL.
 */
import { ConfigError, loadConfig } from '../src/config';
import { WebexApi, WebexApiError } from '../src/channels/webex/api';
import { ensureWebhooks } from '../src/channels/webex/webhooks';
import { createLogger } from '../src/log';

async function main(): Promise<number> {
  const config = loadConfig();
  const missing = (['WEBEX_BOT_TOKEN', 'WEBEX_WEBHOOK_SECRET', 'WEBEX_PUBLIC_URL'] as const).filter((k) => !config[k]);
  if (missing.length) {
    console.error(`webex:webhooks needs ${missing.join(', ')} (see .env.example and README "Connect to Webex").`);
    return 2;
  }
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const api = new WebexApi({ baseUrl: config.WEBEX_API_URL, token: config.WEBEX_BOT_TOKEN!, logger });
  const me = await api.me();
  console.log(`Bot: ${me.displayName ?? me.id}`);
  const changes = await ensureWebhooks(api, { publicUrl: config.WEBEX_PUBLIC_URL!, secret: config.WEBEX_WEBHOOK_SECRET! });
  for (const c of changes) console.log(`${c.action.padEnd(11)} ${c.resource} -> ${c.webhook.targetUrl}`);
  console.log('\nRegistered webhooks:');
  for (const w of await api.listWebhooks()) {
    console.log(`  ${(w.status ?? '?').padEnd(8)} ${`${w.resource}/${w.event}`.padEnd(26)} ${w.name}  ${w.targetUrl}${w.secret ? '' : '  (no secret!)'}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof WebexApiError) console.error(err.message);
    else console.error(err);
    process.exit(1);
  },
);
