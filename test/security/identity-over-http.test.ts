/**
 * Identities are trusted only as their channel proves them, tried as an attacker would over real HTTP:
 * a web chat user who claims an agent's id, or the id of a case's owner, gets nothing; the owner's own
 * browser (which holds the secret the id was derived from) still reads its case.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTranslator } from '../../src/i18n';
import type { SqlStore } from '../../src/storage/index';
import { seedCase } from '../cases/helpers';
import { DirectLineTestClient, startBot, type RunningBot, type StartedConversation } from '../channels/directline/harness';

const AGENT_AAD = '6f1c3a52-9d0e-4f7b-8a61-2b3c4d5e6f70';
const AGENT_EMAIL = 'olena.agent@partner.example';
const t = createTranslator();

let bot: RunningBot | undefined;
afterEach(async () => {
  await bot?.stop();
  bot = undefined;
});

/** Sends `text` and returns what the bot said after it. */
async function say(client: DirectLineTestClient, c: StartedConversation, text: string): Promise<string> {
  const before = (await client.getOk(c)).watermark;
  const res = await client.post(c, { type: 'message', from: { id: c.userId }, text, locale: 'en-US' });
  expect(res.status).toBe(200);
  const after = await client.getOk(c, before);
  return after.activities
    .filter((a) => a.from.role === 'bot')
    .map((a) => String(a.text ?? JSON.stringify(a.attachments ?? '')))
    .join('\n');
}

describe('web chat identities', () => {
  it('never makes a web chat user an agent, whatever id they claim', async () => {
    bot = await startBot({ AGENT_IDS: `${AGENT_AAD},${AGENT_EMAIL}` });
    const client = new DirectLineTestClient(bot.url);
    for (const claimed of [AGENT_AAD, AGENT_EMAIL, `wc_${AGENT_AAD.replace(/-/g, '')}`]) {
      const c = await client.startOk({ user: { id: claimed }, locale: 'en-US' });
      expect(c.userId).not.toBe(claimed);
      const reply = await say(client, c, 'triage');
      expect(reply).toContain(t.t('en', 'agent:notAgent'));
      expect(reply).not.toContain(t.t('en', 'agent:intake.customerName.prompt'));
    }
  });

  it("does not let anyone who knows a case owner's id read the case; the owner's browser still can", async () => {
    bot = await startBot({});
    const client = new DirectLineTestClient(bot.url);
    const browserSecret = 'wc_ownersOwnRandomSecret0123456789';
    const owner = await client.startOk({ user: { id: browserSecret }, locale: 'en-US' });
    // The id is derived from the browser's secret: stable for that browser, not the secret itself.
    expect(owner.userId).not.toBe(browserSecret);
    expect((await client.startOk({ user: { id: browserSecret } })).userId).toBe(owner.userId);

    const record = await seedCase(bot.app.store as SqlStore, {
      channel: 'directline',
      locale: 'en',
      openedBy: { kind: 'person', userKey: `directline:${owner.userId}`, name: 'Owner', email: 'owner@partner.example' },
    });

    // The attacker knows the owner's id (it is in the case record) and proposes it, or a look-alike.
    for (const claimed of [owner.userId, `wc_${owner.userId.slice(3)}`]) {
      const attacker = await client.startOk({ user: { id: claimed }, locale: 'en-US' });
      expect(attacker.userId).not.toBe(owner.userId);
      const reply = await say(client, attacker, `status of ${record.reference}`);
      expect(reply).toContain(t.t('en', 'cases:status.notFound', { reference: record.reference }));
    }

    const again = await client.startOk({ user: { id: browserSecret }, locale: 'en-US' });
    const reply = await say(client, again, `status of ${record.reference}`);
    expect(reply).not.toContain(t.t('en', 'cases:status.notFound', { reference: record.reference }));
    expect(reply).toContain(record.reference);
  });
});
