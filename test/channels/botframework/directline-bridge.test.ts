import { afterEach, describe, expect, it } from 'vitest';
import { createDirectLineBridge, fromPageEvent, renderForWebChat } from '../../../src/channels/botframework/directline-bridge';
import { createWebChatPlugins } from '../../../src/channels/directline';
import { PAGE_EVENTS, type DirectLineActivity } from '../../../src/channels/directline/protocol';
import { loadConfig } from '../../../src/config';
import type { Inbound, TurnResult } from '../../../src/engine/types';
import { createTranslator } from '../../../src/i18n';
import { buildServer, type App } from '../../../src/server';
import { DirectLineTestClient } from '../directline/harness';
import { silentLogger } from '../../support';

const translator = createTranslator();
let app: App | undefined;

afterEach(async () => {
  await app?.close(2_000);
  app = undefined;
});

async function serve(handle: (inbound: Inbound) => Promise<TurnResult>): Promise<DirectLineTestClient> {
  const config = loadConfig({ WEBCHAT_UPLOAD_DIR: '/nonexistent-uploads-not-used' });
  const bridge = createDirectLineBridge({ engine: { handle }, translator, logger: silentLogger });
  app = buildServer({ logger: silentLogger, maxBodyBytes: 64 * 1024, plugins: createWebChatPlugins({ config, bridge, translator, logger: silentLogger }) });
  const { url } = await app.listen(0);
  return new DirectLineTestClient(url);
}

function result(inbound: Inbound, paragraphs: string[]): TurnResult {
  return {
    duplicate: false,
    locale: 'uk',
    conversationKey: `${inbound.channel}:${inbound.conversationId}`,
    messages: [{ paragraphs, choices: [], links: [], facts: [] }],
    step: 'entry',
  };
}

function activity(extra: Partial<DirectLineActivity>): DirectLineActivity {
  return {
    type: 'message',
    id: 'c|1',
    timestamp: new Date(0).toISOString(),
    channelId: 'directline',
    conversation: { id: 'c' },
    from: { id: 'wc_user', role: 'user' },
    ...extra,
  };
}

describe('Direct Line bridge (in-process CloudAdapter)', () => {
  it('hands the engine a directline Inbound and puts its answer in the stream', async () => {
    const seen: Inbound[] = [];
    const dl = await serve(async (inbound) => {
      seen.push(inbound);
      return result(inbound, [`echo: ${inbound.text ?? inbound.kind}`]);
    });
    const c = await dl.startOk({ locale: 'uk-UA' });
    await dl.post(c, { type: 'message', text: 'привіт', locale: 'uk-UA', channelData: { clientActivityID: 'x1' } });
    const texts = (await dl.getOk(c)).activities.filter((a) => a.from.role === 'bot').map((a) => a.text);
    expect(texts).toEqual(['echo: greeting', 'echo: привіт']);
    expect(seen[0]).toMatchObject({ channel: 'directline', conversationId: c.conversationId, kind: 'greeting', locale: 'uk-UA', user: { id: c.userId } });
    expect(seen[1]).toMatchObject({ kind: 'message', text: 'привіт', activityId: expect.stringContaining(c.conversationId) });
  });

  it('turns the page language switch into the engine command, remembered as an explicit choice', async () => {
    const seen: Inbound[] = [];
    const dl = await serve(async (inbound) => {
      seen.push(inbound);
      return result(inbound, ['ok']);
    });
    const c = await dl.startOk();
    await dl.post(c, { type: 'event', name: PAGE_EVENTS.setLanguage, value: 'uk' });
    expect(seen.at(-1)?.choice).toEqual({ id: 'cmd.lang_uk' });
  });

  it("answers with the Bot Framework channel's apology, in the person's language, when the turn fails", async () => {
    const dl = await serve(async (inbound) => {
      if (inbound.kind === 'greeting') return result(inbound, ['hi']);
      throw new Error('storage is down');
    });
    const c = await dl.startOk({ locale: 'uk-UA' });
    const { watermark } = await dl.getOk(c);
    const res = await dl.post(c, { type: 'message', text: 'допоможіть', locale: 'uk-UA', channelData: { clientActivityID: 'f1' } });
    expect(res.status).toBe(200);
    const after = await dl.getOk(c, watermark);
    expect(after.activities.map((a) => a.text)).toEqual(['допоможіть', translator.t('uk', 'botframework:error.apology')]);
  });
});

describe('pressed cards in Web Chat', () => {
  it('swaps a pressed card for its answered version under the same id and timestamp', async () => {
    const dl = await serve(async (inbound) => {
      const base = result(inbound, []);
      if (inbound.kind === 'greeting') {
        return { ...base, step: 'summary', messages: [{ paragraphs: ['Check it'], choices: [{ id: 'confirm', label: 'Confirm' }], links: [], facts: [{ label: 'Order', value: '104857391' }], step: 'summary' }] };
      }
      return { ...base, step: 'opened', messages: [{ paragraphs: ['Opened'], choices: [], links: [], facts: [] }], answered: { step: 'summary', choiceId: 'confirm', label: 'Confirm' } };
    });
    const c = await dl.startOk();
    const first = await dl.getOk(c);
    const card = first.activities[0]!;
    const submit = (card.attachments as Array<{ content: { actions: Array<{ data: unknown }> } }>)[0]!.content.actions[0]!.data;
    expect(submit).toMatchObject({ choice: 'confirm', step: 'summary' });

    await dl.post(c, { type: 'message', value: submit, channelData: { clientActivityID: 'press-1' } });
    const after = await dl.getOk(c, first.watermark);
    const [echo, replaced, opened] = after.activities;
    expect(echo!.from.role).toBe('user');
    expect(replaced).toMatchObject({ id: card.id, timestamp: card.timestamp });
    const content = (replaced!.attachments as Array<{ content: { actions: unknown[]; body: Array<{ text?: string }> } }>)[0]!.content;
    expect(content.actions).toEqual([]);
    expect(content.body.map((b) => b.text)).toContain(translator.t('uk', 'botframework:card.yourAnswer', { label: 'Confirm' }));
    expect(opened!.text).toBe('Opened');
  });
});

describe('Web Chat rendering', () => {
  const t = (key: string) => translator.t('en', `botframework:${key}`);

  it('sends a message with facts as an Adaptive Card, and others as text with suggested actions', () => {
    const card = renderForWebChat(
      { paragraphs: ['Check it'], choices: [{ id: 'confirm', label: 'Confirm' }], links: [], facts: [{ label: 'Order', value: '104857391' }], step: 'summary' },
      t,
    );
    expect(card.attachments?.[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const text = renderForWebChat({ paragraphs: ['Pick one'], choices: [{ id: 'a', label: 'A' }], links: [], facts: [] }, t);
    expect(text.attachments ?? []).toEqual([]);
    expect(text.suggestedActions?.actions.map((a) => a.title)).toEqual(['A']);
  });

  it('keeps the lines of a paragraph as markdown hard breaks', () => {
    const text = renderForWebChat({ paragraphs: ['Reference: PCE-1\nOrder: 104857391'], choices: [], links: [], facts: [] }, t);
    expect(text.text).toBe('Reference: PCE-1  \nOrder: 104857391');
  });

  it('leaves other events alone', () => {
    const other = activity({ type: 'event', name: 'something/else', value: 'uk' });
    expect(fromPageEvent(other)).toBe(other);
    const bogus = activity({ type: 'event', name: PAGE_EVENTS.setLanguage, value: 42 });
    expect(fromPageEvent(bogus)).toBe(bogus);
  });
});
