/**
 * Keeps the bot's three Webex webhooks (`messages`/`created`, `attachmentActions`/`created`, and
 * `memberships`/`created` for the greeting when the bot is added to a space) pointing at
 * `<public url>/api/webex` with our secret, and active: Webex disables a webhook after repeated
 * failed deliveries, and `PUT` with `status: active` brings it back.
 */
import type { WebexApi, WebexWebhook } from './api';
import { WEBEX_ROUTE } from './channel';

export const WEBHOOK_RESOURCES = ['messages', 'attachmentActions', 'memberships'] as const;

export interface WebhookChange {
  resource: string;
  action: 'created' | 'updated' | 'reactivated' | 'unchanged';
  webhook: WebexWebhook;
}

export interface EnsureWebhooksOptions {
  /** Public base URL of this server, e.g. https://bot.example.com */
  publicUrl: string;
  secret: string;
  /** Webhook names start with this; used to recognise ours among others of the same bot. */
  namePrefix?: string;
}

export function webhookTargetUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${WEBEX_ROUTE}`;
}

export async function ensureWebhooks(api: WebexApi, options: EnsureWebhooksOptions): Promise<WebhookChange[]> {
  const prefix = options.namePrefix ?? 'pce-support-bot';
  const targetUrl = webhookTargetUrl(options.publicUrl);
  const existing = await api.listWebhooks();
  const changes: WebhookChange[] = [];
  for (const resource of WEBHOOK_RESOURCES) {
    const name = `${prefix} ${resource}`;
    const candidates = existing.filter((w) => w.resource === resource && w.event === 'created');
    // Ours: the one with our name, else one already aimed at our URL.
    const mine = candidates.find((w) => w.name === name) ?? candidates.find((w) => w.targetUrl === targetUrl);
    if (!mine) {
      changes.push({ resource, action: 'created', webhook: await api.createWebhook({ name, targetUrl, resource, event: 'created', secret: options.secret }) });
      continue;
    }
    const inactive = mine.status !== undefined && mine.status !== 'active';
    // Webex returns the secret of a webhook to its owner; when it does not, we set it again to be sure.
    const differs = mine.name !== name || mine.targetUrl !== targetUrl || mine.secret !== options.secret;
    if (!inactive && !differs) {
      changes.push({ resource, action: 'unchanged', webhook: mine });
      continue;
    }
    const webhook = await api.updateWebhook(mine.id, { name, targetUrl, secret: options.secret, status: 'active' });
    changes.push({ resource, action: inactive ? 'reactivated' : 'updated', webhook });
  }
  return changes;
}
