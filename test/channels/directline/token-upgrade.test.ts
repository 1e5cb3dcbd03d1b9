/**
 * Migration 0010 gives web chat tokens an issue time. A conversation stored before it (three days
 * old, a page perhaps still open) keeps working after the upgrade: its token counts as issued at the
 * upgrade and expires a TTL later, and its first refresh records the site token it goes on under.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { sha256 } from '../../../src/channels/directline/access';
import { siteKeyOf } from '../../../src/channels/directline/conversation-tokens';
import { createWebChatPlugins } from '../../../src/channels/directline';
import { SqlActivityLog } from '../../../src/channels/directline/sql-activity-log';
import { loadConfig } from '../../../src/config';
import { createTranslator } from '../../../src/i18n';
import { buildServer } from '../../../src/server';
import type { SqlStore } from '../../../src/storage/index';
import { upgradeDialects } from '../../storage/store-at-migration';
import { silentLogger, testDir } from '../../support';
import { DirectLineTestClient } from './harness';

const BEFORE_0010 = '0009-recent-activities-in-conversations';
const TTL_MS = 3600_000;
const SITE_TOKEN = 'site-token-upgrade-0123456789';
const CONVERSATION = 'upgradedconversation0001';
const TOKEN = `${CONVERSATION}.old-secret-from-before-the-upgrade`;

async function serve(store: SqlStore, clock: () => Date): Promise<string> {
  const config = loadConfig({ WEBCHAT_TOKEN: SITE_TOKEN, WEBCHAT_UPLOAD_DIR: testDir('webchat-upgrade-').join('uploads') });
  const app = buildServer({
    logger: silentLogger,
    maxBodyBytes: config.MAX_BODY_BYTES,
    plugins: createWebChatPlugins({ config, bridge: { process: async () => [] }, translator: createTranslator(), logger: silentLogger, store, clock }),
  });
  const { url } = await app.listen(0);
  onTestFinished(async () => void (await app.close(2_000)));
  return url;
}

describe.each(upgradeDialects)('web chat conversations from before token expiry, over $name', ({ at }) => {
  it('keep their token until a TTL after the upgrade, and their first refresh records the site token', async () => {
    const old = await at(BEFORE_0010);
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000).toISOString();
    await old.db
      .insertInto('directline_conversations')
      .values({ id: CONVERSATION, secret_hash: sha256(TOKEN), user_id: 'wc_upgraded_user_000000', locale: 'uk-UA', created_at: threeDaysAgo })
      .execute();
    const activity = { type: 'message', id: `${CONVERSATION}|0000001`, timestamp: threeDaysAgo, channelId: 'directline', conversation: { id: CONVERSATION }, from: { id: 'pce-support-bot', role: 'bot' }, text: 'Вітаю' };
    await old.db
      .insertInto('directline_activities')
      .values({ conversation_id: CONVERSATION, seq: 1, client_activity_id: null, activity: JSON.stringify(activity), created_at: threeDaysAgo })
      .execute();
    const beforeUpgrade = new Date().toISOString();
    const store = await old.upgrade();

    const upgraded = await new SqlActivityLog(store).getConversation(CONVERSATION);
    expect(upgraded?.secretIssuedAt! >= beforeUpgrade).toBe(true);
    expect(upgraded?.siteKey).toBeUndefined();

    let offset = 0;
    const url = await serve(store, () => new Date(Date.now() + offset));
    const dl = new DirectLineTestClient(url);
    const c = { conversationId: CONVERSATION, token: TOKEN };
    expect((await dl.getOk(c)).activities.map((a) => a.text)).toEqual(['Вітаю']);

    offset = Date.parse(upgraded!.secretIssuedAt!) + TTL_MS - Date.now();
    expect((await dl.get(c)).status).toBe(403);

    // Back before that: the page's next refresh.
    offset = 0;
    const refreshed = await fetch(`${url}/directline/tokens/refresh`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { token: string };
    expect((await dl.get({ conversationId: CONVERSATION, token: next.token })).status).toBe(200);
    expect((await new SqlActivityLog(store).getConversation(CONVERSATION))?.siteKey).toBe(siteKeyOf(SITE_TOKEN));
  });
});
